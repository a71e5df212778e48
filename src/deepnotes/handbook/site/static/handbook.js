// deepnotes handbook: language switch, search (the same tokenizer and BM25 as `deepnotes ask`),
// and the multiple-choice quiz with its progress in localStorage. No network, no dependencies.
"use strict";
(function () {
  var LANG_KEY = "deepnotes-lang", QUIZ_KEY = "deepnotes-quiz-v1";
  var root = document.body.getAttribute("data-root") || "";

  function load(key, fallback) {
    try { var v = window.localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); }
    catch (e) { return fallback; }
  }
  function save(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage disabled: no progress */ }
  }

  // ---- language: en, zh or both (side by side) ----
  function setLang(lang) {
    document.documentElement.setAttribute("data-lang", lang);
    document.documentElement.setAttribute("lang", lang === "zh" ? "zh-CN" : "en");
    document.querySelectorAll("[data-set-lang]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-set-lang") === lang));
    });
    save(LANG_KEY, lang);
  }
  document.querySelectorAll("[data-set-lang]").forEach(function (b) {
    b.addEventListener("click", function () { setLang(b.getAttribute("data-set-lang")); });
  });
  setLang(load(LANG_KEY, "both"));

  // ---- search: a port of deepnotes.handbook.search (tokenize, expand_query, Index.scores) ----
  // The index (assets/search-index.js, ~1 MB) is loaded on first use, not with every page.
  var IX = null, stop = {}, tokenRe, cjkRe, synonyms = [], loading = null;
  function loadIndex() {
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = root + "assets/search-index.js";
        s.onload = function () { prepare(window.DEEPNOTES_INDEX); resolve(IX); };
        s.onerror = function () { reject(new Error("cannot load the search index")); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }
  function prepare(index) {
    IX = index;
    IX.stopwords.forEach(function (w) { stop[w] = true; });
    tokenRe = new RegExp("[a-z0-9]+|[" + IX.cjk + "]+", "g");
    cjkRe = new RegExp("^[" + IX.cjk + "]");
    synonyms = IX.synonyms.map(function (p) {
      var esc = p[0].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return { re: new RegExp("(?<![a-z0-9])" + esc + "(?![a-z0-9])"), canonical: p[1] };
    });
  }
  window.deepnotesLoadIndex = loadIndex;
  function normalize(text) { return text.normalize("NFKC").toLowerCase(); }
  function tokenize(text) {
    var out = [], runs = normalize(text).match(tokenRe) || [];
    runs.forEach(function (run) {
      if (cjkRe.test(run)) {
        for (var i = 0; i < run.length; i++) if (!stop[run[i]]) out.push(run[i]);
        for (var j = 0; j + 1 < run.length; j++) out.push(run.slice(j, j + 2));
      } else if (!stop[run]) out.push(run);
    });
    return out;
  }
  function expandQuery(query) {
    var text = normalize(query), extra = [];
    synonyms.forEach(function (s) { if (s.re.test(text) && extra.indexOf(s.canonical) < 0) extra.push(s.canonical); });
    return [text].concat(extra).join(" ");
  }
  function search(query, top) {
    var seen = {}, terms = [];
    tokenize(expandQuery(query)).forEach(function (t) {
      if (!seen[t] && Object.prototype.hasOwnProperty.call(IX.idf, t)) { seen[t] = true; terms.push(t); }
    });
    var n = IX.ids.length, scores = new Array(n).fill(0);
    Object.keys(IX.boosts).forEach(function (f) {
      var boost = IX.boosts[f], avgdl = IX.avgdl[f], tfs = IX.tf[f], lengths = IX.lengths[f];
      for (var i = 0; i < n; i++) {
        var norm = IX.k1 * (1 - IX.b + IX.b * lengths[i] / avgdl), s = 0;
        for (var k = 0; k < terms.length; k++) {
          var tf = tfs[i][terms[k]];
          if (tf) s += IX.idf[terms[k]] * tf * (IX.k1 + 1) / (tf + norm);
        }
        scores[i] += boost * s;
      }
    });
    var ranked = [];
    for (var i = 0; i < n; i++) if (scores[i] > 0) ranked.push([scores[i], i]);
    ranked.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    return ranked.slice(0, top || 8).map(function (r) { return { id: IX.ids[r[1]], score: r[0] }; });
  }
  window.deepnotesSearch = search;

  var box = document.getElementById("search-box"), list = document.getElementById("search-results");
  function showResults() {
    var q = box.value.trim();
    if (!IX) { if (q) loadIndex().then(showResults); return; }
    list.innerHTML = "";
    if (!q) { list.hidden = true; return; }
    var hits = search(q, 8);
    if (!hits.length) {
      var li = document.createElement("li");
      li.className = "none";
      li.textContent = "no match · 没有匹配的条目";
      list.appendChild(li);
    }
    hits.forEach(function (h) {
      var li = document.createElement("li"), a = document.createElement("a"), t = IX.entries[h.id];
      li.setAttribute("data-id", h.id);
      a.href = root + "entries/" + h.id + ".html";
      a.textContent = h.id + "  " + t.en + " · " + t.zh;
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = false;
  }
  if (box) {
    box.addEventListener("focus", function () { loadIndex(); });
    box.addEventListener("input", showResults);
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { var a = list.querySelector("a"); if (a) window.location.href = a.href; }
      if (ev.key === "Escape") { list.hidden = true; }
    });
  }

  // ---- quiz: click an option; right/wrong, explanations shown, progress kept in localStorage ----
  var progress = load(QUIZ_KEY, {});
  function mark(item, chosen) {
    var answer = Number(item.getAttribute("data-answer"));
    item.querySelectorAll(".option").forEach(function (b) {
      var i = Number(b.getAttribute("data-index"));
      b.classList.toggle("correct", i === answer);
      b.classList.toggle("wrong", i === chosen && chosen !== answer);
      b.parentNode.querySelector(".explain").hidden = !(i === answer || i === chosen);
    });
    var result = item.querySelector(".result"), ok = chosen === answer;
    result.className = "result " + (ok ? "ok" : "ko");
    var letter = "ABCD"[answer];
    result.innerHTML = ok ? '✓ <span class="en">Right</span> <span class="zh" lang="zh-CN">答对了</span>'
      : '✗ <span class="en">Wrong: the answer is ' + letter + '</span> <span class="zh" lang="zh-CN">答错了，正确答案是 ' +
        letter + "</span>";
    return ok;
  }
  document.querySelectorAll('.quiz-item[data-type="choice"]').forEach(function (item) {
    var key = item.getAttribute("data-key");
    if (progress[key]) mark(item, progress[key].answer);
    item.querySelectorAll(".option").forEach(function (b) {
      b.addEventListener("click", function () {
        var chosen = Number(b.getAttribute("data-index"));
        progress[key] = { answer: chosen, correct: mark(item, chosen), t: new Date().toISOString() };
        save(QUIZ_KEY, progress);
      });
    });
  });
  // ---- graded items: pick one or more options, check against the project's answer, then show the official one ----
  function indices(item, name) {
    return item.getAttribute(name).split(",").map(Number).sort();
  }
  function markGraded(item, picked) {
    var project = indices(item, "data-project"), official = indices(item, "data-official");
    item.querySelectorAll(".option").forEach(function (b) {
      var i = Number(b.getAttribute("data-index")), chosen = picked.indexOf(i) >= 0;
      b.setAttribute("aria-pressed", chosen ? "true" : "false");
      b.classList.toggle("picked", chosen);
      b.classList.toggle("correct", project.indexOf(i) >= 0);
      b.classList.toggle("wrong", chosen && project.indexOf(i) < 0);
      b.classList.toggle("official", official.indexOf(i) >= 0);
    });
    var ok = picked.slice().sort().join(",") === project.join(","), result = item.querySelector(".result");
    var letters = project.map(function (i) { return "ABCDEF"[i]; }).join("");
    result.className = "result " + (ok ? "ok" : "ko");
    result.innerHTML = ok ? '✓ <span class="en">Right</span> <span class="zh" lang="zh-CN">答对了</span>'
      : '✗ <span class="en">Not quite: the project\'s answer is ' + letters + '</span> <span class="zh" lang="zh-CN">' +
        "不对，本项目的答案是 " + letters + "</span>";
    item.querySelector(".verdict").hidden = false;
    return ok;
  }
  document.querySelectorAll(".graded-item").forEach(function (item) {
    var key = item.getAttribute("data-key");
    item.querySelectorAll(".option").forEach(function (b) {
      b.addEventListener("click", function () {
        var on = b.getAttribute("aria-pressed") !== "true";
        b.setAttribute("aria-pressed", on ? "true" : "false");
        b.classList.toggle("picked", on);
      });
    });
    item.querySelector(".check").addEventListener("click", function () {
      var picked = [];
      item.querySelectorAll(".option").forEach(function (b) {
        if (b.getAttribute("aria-pressed") === "true") picked.push(Number(b.getAttribute("data-index")));
      });
      if (!picked.length) return;
      progress[key] = { answer: picked, correct: markGraded(item, picked), t: new Date().toISOString() };
      save(QUIZ_KEY, progress);
    });
    if (progress[key] && Array.isArray(progress[key].answer)) markGraded(item, progress[key].answer);
  });

  var counter = document.getElementById("quiz-progress");
  if (counter) {
    var keys = Object.keys(progress), right = keys.filter(function (k) { return progress[k].correct; }).length;
    counter.innerHTML = '<span class="en">' + keys.length + " answered, " + right + ' right</span> ' +
      '<span class="zh" lang="zh-CN">已答 ' + keys.length + "，答对 " + right + "</span>";
  }
})();
