(function () {
  "use strict";
  // Proof of work: before a vote is sent, find a nonce whose SHA-256 with the form's signed token
  // starts with the asked-for zero bits. Without JavaScript the form posts as it is (rate-limited harder).
  var encoder = new TextEncoder();
  function zeroBits(buffer) {
    var bytes = new Uint8Array(buffer), n = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { n += 8; continue; }
      return n + Math.clz32(bytes[i]) - 24;
    }
    return n;
  }
  async function solve(token, bits) {
    var chunk = 256;
    for (var start = 0; ; start += chunk) {
      var tries = [];
      for (var nonce = start; nonce < start + chunk; nonce++) {
        tries.push(crypto.subtle.digest("SHA-256", encoder.encode(token + ":" + nonce)));
      }
      var digests = await Promise.all(tries);
      for (var i = 0; i < digests.length; i++) {
        if (zeroBits(digests[i]) >= bits) { return String(start + i); }
      }
    }
  }
  document.querySelectorAll("form[data-pow]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !(window.crypto && crypto.subtle) || form.dataset.solved) { return; }
      event.preventDefault();
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      solve(form.dataset.pow, Number(form.dataset.bits)).then(function (nonce) {
        form.elements.pow_nonce.value = nonce;
        var decision = document.createElement("input");
        decision.type = "hidden";
        decision.name = "decision";
        decision.value = button.value;
        form.appendChild(decision);
        form.dataset.solved = "1";
        form.submit();
      });
    });
  });

  // Bookmarks live in this browser's localStorage only: a list of {slug, name}.
  var KEY = "panel.bookmarks";
  var SLUG = /^[a-z0-9][a-z0-9-]{0,63}$/;
  function valid(b) { return b && typeof b.slug === "string" && SLUG.test(b.slug) && typeof b.name === "string"; }
  function load() {
    try {
      var list = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(list) ? list.filter(valid) : [];
    } catch (e) { return []; }
  }
  function save(list) { window.localStorage.setItem(KEY, JSON.stringify(list)); }
  function has(slug) { return load().some(function (b) { return b.slug === slug; }); }

  var button = document.getElementById("bookmark");
  if (button) {
    var slug = button.dataset.slug, name = button.dataset.name;
    var paint = function () {
      var on = has(slug);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "Bookmarked" : "Bookmark";
    };
    button.addEventListener("click", function () {
      var others = load().filter(function (b) { return b.slug !== slug; });
      save(has(slug) ? others : others.concat([{ slug: slug, name: name }]));
      paint();
    });
    button.hidden = false;
    paint();
  }

  var shelf = document.getElementById("bookmarks");
  if (shelf) {
    var empty = document.getElementById("no-bookmarks");
    var draw = function () {
      var list = load();
      shelf.replaceChildren();
      list.forEach(function (b) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = "tools/" + b.slug + ".html";
        link.textContent = b.name;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", "Remove " + b.name);
        remove.addEventListener("click", function () {
          save(load().filter(function (o) { return o.slug !== b.slug; }));
          draw();
        });
        item.append(link, remove);
        shelf.append(item);
      });
      empty.hidden = list.length > 0;
    };
    draw();
  }
})();
