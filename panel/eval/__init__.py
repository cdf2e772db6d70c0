"""The eval: how far to trust the panel, measured on a labelled suite (consistency, independence,
robustness, agreement with people) through the same review flow. Imports judge/ and below; not pages/."""
