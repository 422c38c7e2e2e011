"""``GET /``: one self-contained page (inline CSS and JS, no CDN) for an
analyst: upload a dump, pick the text column from its first rows, watch the
progress, open the report. Labels in English, Persian and Arabic; the layout
uses logical CSS properties so it mirrors correctly right-to-left; user data
is shown with ``dir="auto"`` and inserted as text, never as HTML."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["page"])

PAGE = r"""<!doctype html>
<html lang="en" dir="ltr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cxtext</title>
<link rel="icon" href="data:,">
<style>
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Tahoma,"Noto Sans Arabic","Vazirmatn",sans-serif;background:#f5f7fa;color:#1f2933}
header{background:#1f3b63;color:#fff;padding:14px 16px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
header h1{margin:0;font-size:1.25rem;flex:1}
header select{width:auto;padding:4px 8px;font-size:.9rem}
main{max-width:860px;margin:0 auto;padding:16px}
section{background:#fff;border-radius:10px;padding:16px;margin-block-end:16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:1.05rem;margin:0 0 12px}
label{display:block;font-size:.9rem;color:#52606d;margin-block:10px 4px}
input,select,button{font:inherit;width:100%;padding:10px;border:1px solid #cbd2d9;border-radius:8px;background:#fff}
input[type=file]{padding:8px}
button{background:#1f3b63;color:#fff;border:0;cursor:pointer;margin-block-start:14px}
button:disabled{background:#9aa5b1;cursor:default}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:0 14px}
.muted{color:#7b8794;font-size:.85rem}.err{color:#b42318;white-space:pre-wrap}
.scroll{overflow-x:auto;margin-block-start:10px}
table{border-collapse:collapse;font-size:.85rem;min-width:100%}
th,td{padding:6px 8px;border-block-end:1px solid #e4e7eb;text-align:start;vertical-align:top;max-width:320px;overflow:hidden;text-overflow:ellipsis}
th.pick{background:#fff4d6}
progress{width:100%;height:18px}
.links{display:flex;flex-wrap:wrap;gap:8px;margin-block-start:12px}
.links button{width:auto;margin:0;padding:8px 14px}
.links button.alt{background:#e4e7eb;color:#1f2933}
details{margin-block-start:8px}summary{cursor:pointer;color:#52606d;font-size:.9rem}
#jobs li{margin-block:6px}#jobs a{cursor:pointer;color:#1f3b63;text-decoration:underline}
[hidden]{display:none!important}
</style></head>
<body>
<header><h1 data-t="title">cxtext — customer feedback analysis</h1>
<select id="uilang" aria-label="language"><option value="en">English</option><option value="fa">فارسی</option><option value="ar">العربية</option></select></header>
<main>
<section>
<h2 data-t="upload">1. Upload a dump</h2>
<input type="file" id="file" accept=".csv,.tsv,.jsonl,.ndjson,.xlsx,.parquet">
<p class="muted" data-t="formats">CSV, TSV, JSONL, XLSX or Parquet. Persian, Arabic and English texts.</p>
<details><summary data-t="advanced">Advanced</summary>
<label for="key" data-t="key">API key (if the server needs one)</label><input id="key" type="password" autocomplete="off">
</details>
<div id="perr" class="err" role="alert"></div>
</section>
<section id="cols" hidden>
<h2 data-t="columns">2. Pick the columns</h2>
<div class="grid">
<div><label for="tcol" data-t="tcol">Text column</label><select id="tcol"></select></div>
<div><label for="icol" data-t="icol">ID column</label><select id="icol"></select></div>
<div><label for="dcol" data-t="dcol">Date column</label><select id="dcol"></select></div>
<div><label for="scol" data-t="scol">Segment column</label><select id="scol"></select></div>
<div><label for="lang" data-t="lang">Language</label><select id="lang">
<option value="" data-t="auto">detect per text</option><option value="fa">فارسی (fa)</option><option value="ar">العربية (ar)</option><option value="en">English (en)</option></select></div>
</div>
<div class="scroll"><table id="sample"></table></div>
<button id="start" data-t="start">Analyze</button>
</section>
<section id="prog" hidden>
<h2 data-t="progress">3. Progress</h2>
<progress id="bar" max="1" value="0"></progress>
<p id="ptext"></p>
<div id="jerr" class="err" role="alert"></div>
<div class="links" id="links" hidden>
<button id="report" data-t="report">Open the report</button>
<button class="alt" data-dl="csv">CSV</button><button class="alt" data-dl="jsonl">JSONL</button>
<button class="alt" data-dl="parquet">Parquet</button><button class="alt" id="summary" data-t="summary">Summary JSON</button>
</div>
</section>
<section><h2 data-t="recent">Recent jobs</h2><ul id="jobs"></ul></section>
</main>
<script>
"use strict";
const T = {
 en: {title:"cxtext — customer feedback analysis", upload:"1. Upload a dump", formats:"CSV, TSV, JSONL, XLSX or Parquet. Persian, Arabic and English texts.",
  advanced:"Advanced", key:"API key (if the server needs one)", columns:"2. Pick the columns", tcol:"Text column", icol:"ID column",
  dcol:"Date column", scol:"Segment column", lang:"Language", auto:"detect per text", start:"Analyze", progress:"3. Progress",
  report:"Open the report", summary:"Summary JSON", recent:"Recent jobs", none:"— none —", uploading:"uploading", queued:"queued",
  running:"running", done:"done", failed:"failed", rows:"rows", errors:"not analyzable", sep:" · ", reading:"reading the first rows…", guess:"— guess —"},
 fa: {title:"cxtext — تحلیل بازخورد مشتریان", upload:"۱. بارگذاری فایل", formats:"CSV، TSV، JSONL، XLSX یا Parquet. متن فارسی، عربی و انگلیسی.",
  advanced:"پیشرفته", key:"کلید API (اگر سرور بخواهد)", columns:"۲. انتخاب ستون‌ها", tcol:"ستون متن", icol:"ستون شناسه",
  dcol:"ستون تاریخ", scol:"ستون بخش", lang:"زبان", auto:"تشخیص برای هر متن", start:"تحلیل", progress:"۳. پیشرفت",
  report:"باز کردن گزارش", summary:"خلاصه (JSON)", recent:"کارهای اخیر", none:"— هیچ —", uploading:"در حال بارگذاری", queued:"در صف",
  running:"در حال اجرا", done:"تمام شد", failed:"ناموفق", rows:"ردیف", errors:"قابل تحلیل نبود", sep:"، ", reading:"خواندن ردیف‌های اول…", guess:"— حدس خودکار —"},
 ar: {title:"cxtext — تحليل آراء العملاء", upload:"١. رفع الملف", formats:"CSV أو TSV أو JSONL أو XLSX أو Parquet. نصوص فارسية وعربية وإنجليزية.",
  advanced:"متقدم", key:"مفتاح API (إن طلبه الخادم)", columns:"٢. اختيار الأعمدة", tcol:"عمود النص", icol:"عمود المعرف",
  dcol:"عمود التاريخ", scol:"عمود الفئة", lang:"اللغة", auto:"اكتشاف لكل نص", start:"تحليل", progress:"٣. التقدم",
  report:"فتح التقرير", summary:"الملخص (JSON)", recent:"المهام الأخيرة", none:"— لا شيء —", uploading:"جارٍ الرفع", queued:"في الانتظار",
  running:"قيد التشغيل", done:"اكتمل", failed:"فشل", rows:"صف", errors:"تعذر تحليله", sep:"، ", reading:"قراءة الصفوف الأولى…", guess:"— تخمين تلقائي —"}
};
const $ = id => document.getElementById(id);
let ui = localStorage.getItem("cx.ui") || ((navigator.language||"en").slice(0,2) in T ? (navigator.language||"en").slice(0,2) : "en");
const t = k => (T[ui] && T[ui][k]) || T.en[k] || k;
function applyLang() {
  document.documentElement.lang = ui; document.documentElement.dir = ui === "en" ? "ltr" : "rtl";
  document.querySelectorAll("[data-t]").forEach(el => { el.textContent = t(el.dataset.t); });
  $("uilang").value = ui; localStorage.setItem("cx.ui", ui);
}
$("uilang").onchange = e => { ui = e.target.value; applyLang(); if (shown) showStatus(shown); refreshJobs(); };
$("key").value = localStorage.getItem("cx.key") || "";
$("key").onchange = e => { localStorage.setItem("cx.key", e.target.value); refreshJobs(); };
const headers = () => { const k = $("key").value.trim(); return k ? {"X-API-Key": k} : {}; };
async function errText(r) { try { const j = await r.json(); return (j.error && j.error.message) || r.statusText; } catch (e) { return r.status + " " + r.statusText; } }
async function api(url, opts) {
  const r = await fetch(url, Object.assign({headers: headers()}, opts || {}));
  if (!r.ok) throw new Error(await errText(r));
  return r;
}
function fill(sel, cols, pick, optional) {
  sel.replaceChildren();
  if (optional) { const o = new Option(t("none"), ""); sel.add(o); }
  cols.forEach(c => { const o = new Option(c, c); o.dir = "auto"; sel.add(o); });
  sel.value = pick || "";
}
function sample(cols, rows, tcol) {
  const tb = $("sample"); tb.replaceChildren();
  const hr = tb.insertRow();
  cols.forEach(c => { const th = document.createElement("th"); th.textContent = c; th.dir = "auto"; if (c === tcol) th.className = "pick"; hr.appendChild(th); });
  rows.forEach(r => { const tr = tb.insertRow(); cols.forEach(c => { const td = tr.insertCell(); td.dir = "auto"; const v = r[c]; td.textContent = v === null || v === undefined ? "" : String(v).slice(0, 160); }); });
}
const TEXT_EXT = /\.(csv|tsv|jsonl|ndjson)$/i;
$("file").onchange = async () => {
  const f = $("file").files[0]; $("perr").textContent = ""; $("cols").hidden = true;
  if (!f) return;
  $("perr").textContent = t("reading");
  const fd = new FormData();
  // text formats: the first 256 KB is enough to see the columns
  fd.append("file", TEXT_EXT.test(f.name) ? f.slice(0, 262144) : f, f.name);
  try {
    const p = await (await api("/v1/preview", {method: "POST", body: fd})).json();
    fill($("tcol"), p.columns, p.text_column, false); fill($("icol"), p.columns, p.id_column, true);
    fill($("dcol"), p.columns, p.date_column, true); fill($("scol"), p.columns, "", true);
    sample(p.columns, p.rows, p.text_column);
    $("tcol").onchange = () => sample(p.columns, p.rows, $("tcol").value);
    $("perr").textContent = ""; $("cols").hidden = false;
  } catch (e) {
    // no preview (e.g. a workbook over the preview limit): let the server guess the columns
    $("perr").textContent = e.message;
    for (const id of ["tcol", "icol", "dcol", "scol"]) fill($(id), [], "", true);
    $("tcol").options[0].text = t("guess"); $("sample").replaceChildren(); $("cols").hidden = false;
  }
};
let poll = null;
$("start").onclick = () => {
  const f = $("file").files[0]; if (!f) return;
  const fd = new FormData(); fd.append("file", f, f.name);
  for (const [k, id] of [["text_column","tcol"],["id_column","icol"],["date_column","dcol"],["segment_column","scol"],["lang","lang"]])
    if ($(id).value) fd.append(k, $(id).value);
  $("start").disabled = true; $("prog").hidden = false; $("links").hidden = true; $("jerr").textContent = ""; shown = null;
  const x = new XMLHttpRequest(); x.open("POST", "/v1/jobs");
  Object.entries(headers()).forEach(([k, v]) => x.setRequestHeader(k, v));
  x.upload.onprogress = e => { if (e.lengthComputable) { $("bar").max = e.total; $("bar").value = e.loaded; $("ptext").textContent = t("uploading") + " " + (e.loaded / e.total).toLocaleString(ui, {style: "percent"}); } };
  x.onload = () => {
    $("start").disabled = false;
    let j = {}; try { j = JSON.parse(x.responseText); } catch (e) {}
    if (x.status !== 202) { $("jerr").textContent = (j.error && j.error.message) || x.statusText; return; }
    watch(j.id);
  };
  x.onerror = () => { $("start").disabled = false; $("jerr").textContent = "network error"; };
  x.send(fd);
};
let shown = null;  // the job on screen, re-rendered when the UI language changes
// the line is in the UI's language and direction; the file name, user data, is isolated in a <bdi>
function showStatus(j) {
  shown = j;
  const p = $("ptext"); p.replaceChildren();
  if (j.filename) { const b = document.createElement("bdi"); b.textContent = j.filename; p.append(b, " — "); }
  const total = j.rows_total;
  p.append(t(j.status) + t("sep") + j.rows_done.toLocaleString(ui) + (total ? " / " + total.toLocaleString(ui) : "") + " " +
    t("rows") + (j.errors ? t("sep") + j.errors.toLocaleString(ui) + " " + t("errors") : ""));
}
function watch(id) {
  if (poll) clearTimeout(poll);
  $("prog").hidden = false; $("links").hidden = true; $("jerr").textContent = "";
  const tick = async () => {
    try {
      const j = await (await api("/v1/jobs/" + id)).json();
      const total = j.rows_total;
      $("bar").max = total || 1; $("bar").value = total ? j.rows_done : 0;
      if (!total) $("bar").removeAttribute("value");
      showStatus(j);
      if (j.status === "done") { $("bar").value = $("bar").max; showLinks(id); refreshJobs(); return; }
      if (j.status === "failed") { $("jerr").textContent = j.error ? j.error.message : "failed"; refreshJobs(); return; }
    } catch (e) { $("jerr").textContent = e.message; }
    poll = setTimeout(tick, 1000);
  };
  tick();
}
async function openBlob(url, name) {
  try {
    const b = await (await api(url)).blob(); const u = URL.createObjectURL(b);
    if (name) { const a = document.createElement("a"); a.href = u; a.download = name; document.body.appendChild(a); a.click(); a.remove(); }
    else window.open(u, "_blank");
    setTimeout(() => URL.revokeObjectURL(u), 60000);
  } catch (e) { $("jerr").textContent = e.message; }
}
function showLinks(id) {
  const base = "/v1/jobs/" + id;
  $("links").hidden = false;
  $("report").onclick = () => openBlob(base + "/report");
  $("summary").onclick = () => openBlob(base + "/summary");
  document.querySelectorAll("[data-dl]").forEach(b => { b.onclick = () => openBlob(base + "/results?format=" + b.dataset.dl, "results.cx." + b.dataset.dl); });
}
async function refreshJobs() {
  try {
    const j = await (await api("/v1/jobs?limit=10")).json();
    const ul = $("jobs"); ul.replaceChildren();
    j.jobs.forEach(job => {
      const li = document.createElement("li"); const a = document.createElement("a");
      a.textContent = job.filename || job.id; a.dir = "auto"; a.onclick = () => watch(job.id);
      li.appendChild(a); li.append(" — " + t(job.status) + t("sep") + job.rows_done.toLocaleString(ui) + " " + t("rows"));
      ul.appendChild(li);
    });
  } catch (e) { /* the key may be missing */ }
}
applyLang(); refreshJobs();
</script>
</body></html>
"""


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page() -> HTMLResponse:
    return HTMLResponse(PAGE)
