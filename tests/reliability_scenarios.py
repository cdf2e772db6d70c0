"""The fault and attack scenarios behind docs/reliability.md: data, read by bench/reliability.py.

Each names the test that checks its promise; a scenario holds when that test passes.
"""

from __future__ import annotations

from typing import NamedTuple


class Scenario(NamedTuple):
    area: str
    scenario: str
    promise: str
    test: str


F = "tests/test_faults_e2e.py::"
R = "tests/test_retry.py::"
C = "tests/test_client.py::"
S = "tests/test_storage_faults.py::"

SCENARIOS: list[Scenario] = [
    Scenario(
        "Waits and retries",
        "A permanent 529 on Messages",
        "at most 3 attempts per call, counted at the server; the run is recorded",
        F + "test_a_permanent_529_costs_three_attempts_per_call",
    ),
    Scenario(
        "Waits and retries",
        "A permanent 529 on uploads",
        "at most 3 upload attempts; one line, exit 2",
        F + "test_a_permanent_529_on_upload_costs_three_attempts",
    ),
    Scenario(
        "Waits and retries",
        "429 with `retry-after: 3600` in a review",
        "that call fails at once, naming the 60 s cap; the rest of the panel decides",
        F + "test_retry_after_an_hour_fails_the_call_at_once",
    ),
    Scenario(
        "Waits and retries",
        "429 with `retry-after: 3599` in a batch",
        "everybody pauses for the cap at most; the call goes behind the others",
        "tests/test_scheduler.py::test_a_server_wait_past_the_cap_pauses_only_up_to_the_cap",
    ),
    Scenario(
        "Waits and retries",
        "Requeue past the cap in a batch",
        "retried after at most the cap",
        R + "test_batch_requeues_past_the_cap_and_waits_at_most_the_cap",
    ),
    Scenario(
        "Waits and retries",
        "A call that hangs",
        "abandoned at the read timeout (PANEL_TIMEOUT)",
        F + "test_a_call_that_hangs_is_abandoned_at_the_read_timeout",
    ),
    Scenario(
        "Waits and retries",
        "`error` event (overloaded) after HTTP 200",
        "transient: that persona is asked again and answers",
        F + "test_an_overloaded_error_inside_a_stream_is_retried",
    ),
    Scenario(
        "Waits and retries",
        "Connection reset mid-stream",
        "retried; if it persists that persona is failed and the run is recorded",
        F + "test_a_connection_cut_mid_stream_is_retried_then_recorded",
    ),
    Scenario(
        "Waits and retries",
        "`x-should-retry` header",
        "overrides the status either way",
        C + "test_x_should_retry_overrides_the_status",
    ),
    Scenario(
        "Waits and retries",
        "An unknown model (404 without a file)",
        "one line naming the model, exit 2, no run recorded; never mistaken for a lost file",
        C + "test_an_unknown_model_is_not_a_lost_file",
    ),
    Scenario(
        "Files and uploads",
        "A file expired server-side (metadata still readable)",
        "the Messages 404 is the truth: uploaded again; later runs work",
        F + "test_an_expired_file_is_uploaded_again_and_later_runs_work",
    ),
    Scenario(
        "Files and uploads",
        "Four personas see the same lost file",
        "one re-upload",
        C + "test_registry_recovers_a_lost_file_once_for_all_callers",
    ),
    Scenario(
        "Files and uploads",
        "An upload stored before its answer was lost",
        "found by name on the retry: one server file",
        F + "test_an_upload_stored_before_its_answer_was_lost_is_not_repeated",
    ),
    Scenario(
        "Files and uploads",
        "Six concurrent reviews on one data home",
        "each document uploaded once (claimed in SQLite)",
        F + "test_concurrent_reviews_on_one_home_upload_each_document_once",
    ),
    Scenario(
        "Storage",
        "A full disk when the record is written",
        "the result is printed first, then one line with a fallback copy; exit 1",
        F + "test_a_full_disk_prints_the_paid_result_then_one_line",
    ),
    Scenario(
        "Storage",
        "Fallback copy of an unsaved run",
        "mode 0600 in the temporary directory",
        S + "test_a_full_disk_keeps_a_copy_of_the_paid_run",
    ),
    Scenario(
        "Storage",
        "A full disk, a size limit or a home panel may not write, on any command that writes",
        "one line naming the file or data home, the fault and what to do; exit 2, never a bug",
        "tests/test_storage_errors_e2e.py::test_a_batch_whose_database_cannot_grow_is_one_line",
    ),
    Scenario(
        "Storage",
        "A data home the kernel refuses even to root (EPERM)",
        "one line pointing at --home; nothing sent to the API",
        "tests/test_storage_errors_e2e.py::test_a_home_the_kernel_refuses_is_one_line",
    ),
    Scenario(
        "Message Batches",
        "A results download that stalls after some lines",
        "one line saying so and how to resume, exit 1; the lines read are kept",
        "tests/test_batch_results_e2e.py::test_results_read_before_a_stall_are_kept",
    ),
    Scenario(
        "Message Batches",
        "A garbled or truncated results line",
        "only its request is redone live (counted `unreadable`); the job completes",
        "tests/test_batch_results_e2e.py::test_a_garbled_line_is_redone_live_and_the_job_completes",
    ),
    Scenario(
        "Storage",
        "A read-only data home",
        "reading opens the database read-only",
        S + "test_reading_opens_the_database_read_only",
    ),
    Scenario(
        "Storage",
        "An older database read by a newer panel",
        "no migration when reading",
        S + "test_reading_never_migrates_an_older_database",
    ),
    Scenario(
        "Storage",
        "A missing, corrupt or binary record",
        "named in one line",
        S + "test_a_bad_record_is_named",
    ),
    Scenario(
        "Storage",
        "A corrupt record among good ones",
        "show names it; history and site leave it out and go on",
        F + "test_a_corrupt_record_is_named_and_reading_goes_on",
    ),
    Scenario(
        "Storage",
        "kill -9 at twelve points of a two-round Message Batches job",
        "no request sent twice, nothing redone live, one run per tool",
        "tests/test_kill_e2e.py::"
        "test_kills_through_both_rounds_of_a_batches_job_send_nothing_twice",
    ),
    Scenario(
        "Storage",
        "Three machines on one Message Batches job, one killed",
        "each tool submitted once, collected once, one complete run each",
        "tests/test_shared_batch_e2e.py::test_three_workers_share_a_message_batches_job",
    ),
]

B = "tests/test_bad_input_backlog.py::"
P = "tests/test_bad_input_personas.py::"
T = "tests/test_bad_input_settings.py::"
N = "tests/test_bad_input_slugs.py::"
A = "tests/test_attacks_"

SCENARIOS += [
    Scenario(
        "Bad input",
        "A CSV cell over 131,072 characters",
        "one line with the file and line",
        B + "test_csv_cell_over_the_csv_field_limit_is_one_line_with_its_line",
    ),
    Scenario(
        "Bad input",
        "JSON nested 100,000 deep",
        "an invalid row, not a recursion error",
        B + "test_json_nested_100000_deep_is_an_invalid_row_not_a_recursion_error",
    ),
    Scenario(
        "Bad input",
        "YAML `!!python/object`",
        "refused in one line, exit 2",
        B + "test_cli_prints_a_python_object_tag_as_one_line_and_exits_2",
    ),
    Scenario(
        "Bad input",
        "A YAML key that is a list",
        "an invalid row",
        B + "test_yaml_key_that_is_a_list_is_an_invalid_row",
    ),
    Scenario(
        "Bad input",
        "YAML nested 5,000 deep",
        "one line naming the file",
        B + "test_yaml_nested_5000_deep_is_one_line_naming_the_file",
    ),
    Scenario(
        "Bad input",
        "YAML names `0x1F`, `no`",
        "names are the strings as written",
        B + "test_yaml_names_are_the_strings_as_written",
    ),
    Scenario(
        "Bad input",
        "Any backlog name (property-based)",
        "a row with that name, or a reason",
        B + "test_any_name_is_a_row_with_that_name_or_a_reason",
    ),
    Scenario(
        "Bad input",
        "A non-UTF-8 persona file",
        "one line naming it",
        P + "test_non_utf8_persona_file_is_one_line_naming_it",
    ),
    Scenario(
        "Bad input",
        "A directory named `x.yaml` among personas",
        "refused",
        P + "test_directory_named_like_a_persona_file_is_refused",
    ),
    Scenario(
        "Bad input",
        "A template raising at render time",
        "one line naming file and line",
        P + "test_template_that_raises_while_rendering_names_file_and_line",
    ),
    Scenario(
        "Bad input",
        "A non-UTF-8 template",
        "one line naming it",
        P + "test_non_utf8_template_is_one_line_naming_it",
    ),
    Scenario(
        "Bad input",
        "`PANEL_PROMPTS=/nonexistent`",
        "one line, never silently ignored",
        P + "test_panel_prompts_missing_is_one_cli_line",
    ),
    Scenario(
        "Bad input",
        "`PANEL_SHIP_THRESHOLD=abc`",
        "one line, exit 2",
        T + "test_ship_threshold_abc_is_one_cli_line",
    ),
    Scenario(
        "Bad input",
        "`--home` pointing at a file",
        "one line, exit 2",
        T + "test_home_that_is_a_file_is_one_cli_line",
    ),
    Scenario(
        "Bad input",
        "`--rpm 0`, negative limits",
        "one line, exit 2",
        T + "test_batch_limits_that_cannot_work_are_one_line",
    ),
    Scenario(
        "Bad input",
        "Any unexpected exception",
        "one line naming the command and PANEL_DEBUG",
        T + "test_unexpected_exception_is_one_line_naming_the_command",
    ),
    Scenario(
        "Bad input",
        '"C", "C++", "C#"',
        "three different tools",
        N + "test_c_cplusplus_and_csharp_are_three_tools",
    ),
    Scenario(
        "Bad input",
        "Unicode-only names (`日本語ツール`)",
        "accepted, with a stable key",
        N + "test_names_without_ascii_letters_get_a_stable_hashed_slug",
    ),
    Scenario(
        "Bad input",
        "Any text as a name (property-based)",
        "a path-safe slug or one line",
        N + "test_any_text_is_a_path_safe_slug_or_an_input_error",
    ),
    Scenario(
        "Bad input",
        "Two names given for one slug",
        "refused before anything is paid",
        N + "test_cli_review_with_a_name_taken_by_another_tool_is_one_line",
    ),
    Scenario(
        "Attacks",
        "A hostile <title>/og:title/heading with no --name",
        'stays inside document blocks; instructions say "the tool described in the documents"',
        A + "tool_name.py::test_hostile_page_title_stays_inside_document_blocks",
    ),
    Scenario(
        "Attacks",
        "A hostile heading in a local file",
        "stays inside document blocks",
        A + "tool_name.py::test_hostile_heading_of_a_file_stays_inside_document_blocks",
    ),
    Scenario(
        "Attacks",
        "Hidden text (16 techniques: sr-only, font-size 0, off-screen, white-on-white...)",
        "dropped; the visible text kept",
        A + "hidden_text.py::test_hidden_instruction_is_dropped_and_visible_text_kept",
    ),
    Scenario(
        "Attacks",
        "Words split with zero-width characters",
        "come out whole",
        A + "hidden_text.py::test_words_split_by_zero_width_characters_come_out_whole",
    ),
    Scenario(
        "Attacks",
        "Invisible characters in local files and stdin",
        "stripped",
        A + "hidden_text.py::test_local_text_files_and_stdin_lose_invisible_characters",
    ),
    Scenario(
        "Attacks",
        "Terminal escapes from the model or a page (review)",
        "no control characters reach the terminal",
        A + "terminal.py::test_review_prints_no_control_characters",
    ),
    Scenario(
        "Attacks",
        "Terminal escapes (show, history, list, pages on stdout)",
        "no control characters reach the terminal",
        A + "terminal.py::test_reading_commands_print_no_control_characters",
    ),
    Scenario(
        "Attacks",
        "`injection_suspected` beyond the scorecard",
        "shown in list, history, batch summaries and exports",
        A + "injection_flag.py::test_batch_leaderboard_and_export_carry_the_flag",
    ),
    Scenario(
        "Attacks",
        "A tool named like a spreadsheet formula",
        "exported as text",
        A + "injection_flag.py::test_export_cells_never_start_a_formula",
    ),
    Scenario(
        "Attacks",
        "100.100.100.200 with --allow-private",
        "refused at the guard, no connection",
        A + "metadata.py::test_fetch_with_allow_private_refuses_alibaba_metadata",
    ),
    Scenario(
        "Attacks",
        "Every known metadata address and host name",
        "refused by both policies",
        A + "metadata.py::test_metadata_address_refused_by_both_policies",
    ),
]

X = "tests/test_blind_spots.py::"
K = "tests/test_fake_anthropic.py::"

SCENARIOS += [
    Scenario(
        "The tests' blind spots",
        "Tie-break at exactly the threshold (`>=` made `>`)",
        "a test fails on the mutant",
        X + "test_tie_at_exactly_the_threshold_ships",
    ),
    Scenario(
        "The tests' blind spots",
        "The slug's length cut removed",
        "a test fails on the mutant",
        X + "test_slug_is_cut_at_64_characters",
    ),
    Scenario(
        "The tests' blind spots",
        "Personas only the older run had dropped from a diff",
        "a test fails on the mutant",
        X + "test_a_persona_only_the_older_run_had_is_kept_in_the_diff",
    ),
    Scenario(
        "The tests' blind spots",
        "The requests-per-minute bucket removed",
        "a test fails on the mutant",
        X + "test_requests_per_minute_hold_back_the_call_past_the_burst",
    ),
    Scenario(
        "The tests' blind spots",
        "`text_of` taking the first block, not the first text block",
        "a test fails on the mutant",
        X + "test_a_thinking_first_reply_is_a_verdict",
    ),
    Scenario(
        "The tests' blind spots",
        "The registry's per-content lock removed",
        "a unit test fails on the mutant",
        X + "test_concurrent_ensures_of_one_document_upload_it_once",
    ),
    Scenario(
        "The tests' blind spots",
        "The fake accepts any model id",
        "404 for an unknown model",
        K + "test_an_unknown_model_is_a_404",
    ),
    Scenario(
        "The tests' blind spots",
        "The fake's replies never start with thinking",
        "a third of default replies lead with a thinking block",
        K + "test_some_replies_start_with_a_thinking_block",
    ),
    Scenario(
        "The tests' blind spots",
        "The fake runs a batch's requests one after another",
        "concurrent: no cache read inside a batch; panel warms the cache in a first batch",
        "tests/test_batch_e2e.py::"
        "test_warm_batches_write_the_documents_once_and_read_them_three_times",
    ),
]
