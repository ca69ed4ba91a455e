// The hub's dashboard: one page over the JSON API (/api/v1), routed by the URL's hash so
// every view has an address to share. Everything is built with DOM calls and textContent:
// text that kits and the hub wrote is never parsed as HTML.
"use strict";

const API = "/api/v1";
const view = () => document.getElementById("view");
const state = { training: false, contests: null, zones: null, route: 0 };

// -- small helpers ---------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const number = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("id-ID"));
const percent = (r) =>
  r === null || r === undefined
    ? "?"
    : (100 * r).toLocaleString("id-ID", { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + "%";
const short = (sha) => sha.slice(0, 12) + "…";

// A time the hub keeps in UTC, written in the zone of the province that region or TPS
// `code` lies in (WIB, WITA, WIT: the hub's /time-zones says which keeps which); a time of
// no region or TPS (the hub's clock, its log's heads) in the zone of the hub's own region.
function when(t, code) {
  if (!t) return "–";
  const z = state.zones || { offsets: { WIB: 7 }, provinces: {}, default: "WIB", hub_region: "" };
  const zone = z.provinces[String(code || z.hub_region || "").slice(0, 2)] || z.default;
  const shifted = new Date(Date.parse(t) + z.offsets[zone] * 3600 * 1000);
  if (Number.isNaN(shifted.getTime())) return t;
  return `${shifted.toISOString().slice(0, 16).replace("T", " ")} ${zone}`;
}

// A view whose data arrives after the reader moved on must not draw over the newer view:
// every answer is checked against the route it was asked for, and a stale one stops its view.
class Stale extends Error {}

async function getJson(path) {
  const asked = state.route;
  const response = await fetch(API + path, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({ detail: response.statusText }));
  if (asked !== state.route) throw new Stale(path);
  if (!response.ok) {
    const error = new Error(body.detail || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

// Replace a node's children, skipping the nulls conditional parts leave.
function put(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function show(...nodes) {
  put(view(), ...nodes);
  cards(view());
}

// On a phone each table row is a card (style.css): every cell carries its column's name,
// taken from the table's head, so a number is never shown without what it counts.
function cards(root) {
  for (const table of root.querySelectorAll("table")) {
    const head = table.tHead ? [...table.tHead.rows[0].cells].map((c) => c.dataset.short || c.textContent.trim()) : [];
    table.classList.add("cards");
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        [...row.cells].forEach((cell, i) => {
          if (head[i] && cell.colSpan === 1 && !cell.dataset.label) cell.dataset.label = head[i];
        });
      }
    }
  }
}

// What went wrong in words a reader can act on; the hub's own (English) message beside it.
const FAILURES = {
  404: "Tidak ditemukan: wilayah, TPS atau dokumen ini tidak ada di hub ini. Periksa alamatnya, atau kembali ke Rekapitulasi.",
  400: "Permintaan tidak valid: alamat ini memuat kode atau angka yang tidak dikenal hub. Periksa alamatnya.",
  429: "Terlalu banyak permintaan. Tunggu sebentar, lalu coba lagi.",
};

function failure(error) {
  const said = FAILURES[error.status] ||
    (error.status ? `Hub gagal menjawab (${error.status}). Coba lagi sebentar lagi.` : "Hub tidak dapat dihubungi. Periksa koneksi, lalu coba lagi.");
  return h("p", { class: "error", role: "alert" }, said, " ", h("small", { class: "en" }, `(${error.message})`));
}

function completeness(reported, expected, ratio, label) {
  const text = `${number(reported)}/${expected === null ? "?" : number(expected)} TPS (${percent(ratio)})`;
  const bar =
    expected === null
      ? null
      : h("progress", { max: String(expected || 1), value: String(reported), "aria-label": label });
  return h("span", { class: "completeness" }, bar, h("span", { class: "count" }, text));
}

const LEVELS = {
  nasional: "Seluruh wilayah",
  provinsi: "Provinsi",
  kabkota: "Kabupaten/Kota",
  kecamatan: "Kecamatan",
  desa: "Kelurahan/Desa",
  tps: "TPS",
};

const paslon = (n) => `Paslon ${String(n).padStart(2, "0")}`;

function headlineLabel(info, id, candidates = {}) {
  const field = info.fields.find((f) => f.id === id);
  if (field && field.option) {
    const names = candidates[field.option];
    return names ? h("span", {}, paslon(field.option), h("small", { class: "candidates" }, names)) : paslon(field.option);
  }
  if (id === "V.C") return "Jumlah suara";
  return id;
}

function shortLabel(info, id) {
  const field = info.fields.find((f) => f.id === id);
  return field && field.option ? paslon(field.option) : id === "V.C" ? "Jumlah suara" : id;
}

// A region's (or TPS's) vote shares: the chart the hub draws (SVG), its words as alt text.
function shareChart(url, shares, candidates, where = ["di wilayah ini", "here"]) {
  if (!shares.length) return null;
  const words = shares.map((s) => `${paslon(s.number)} ${candidates[s.number] || ""}: ${percent(s.share)} (${number(s.votes)} suara)`).join("; ");
  return h(
    "figure",
    { class: "shares" },
    h("img", { class: "chart", id: "share-chart", src: url, alt: `Perolehan suara: ${words}`, width: "400" }),
    h("figcaption", { class: "caveat" }, `Persentase dari jumlah suara semua pasangan calon ${where[0]} `, h("span", { lang: "en" }, `(share of the votes all candidates got ${where[1]})`)),
  );
}

// The option's share beside its votes, for a headline field.
function shareOf(shares, info, id) {
  const field = info.fields.find((f) => f.id === id);
  const found = field && field.option ? shares.find((s) => s.number === field.option) : null;
  return found ? percent(found.share) : null;
}

// "3/5 TPS masuk, memuat 52,3% pemilih (1.234 dari 2.360 DPT)".
function votersLine(r) {
  if (!r.voters) return null;
  return h("span", { class: "voters" }, ` · memuat ${percent(r.voters.share)} pemilih (${number(r.voters.dpt_in)} dari ${number(r.voters.dpt)} DPT) `, h("span", { lang: "en" }, "(share of registered voters in the TPS counted)"));
}

function fieldLabel(info, id, candidates = {}) {
  const field = info.fields.find((f) => f.id === id);
  const label = field && field.label ? field.label : "";
  const names = field && field.option ? candidates[field.option] : null;
  return names ? h("span", {}, label, h("small", { class: "candidates" }, names)) : label;
}

// -- the real/training switch ------------------------------------------------------------------

function setTraining(training) {
  state.training = training;
  document.getElementById("training-banner").hidden = !training;
  document.body.classList.toggle("training", training);
  for (const input of document.querySelectorAll('#mode input[name="mode"]')) {
    input.checked = (input.value === "training") === training;
  }
}

async function contests() {
  if (state.contests === null) state.contests = (await getJson("/contests")).contests;
  return state.contests;
}

// -- views -------------------------------------------------------------------------------------

async function contestsView() {
  const asked = location.hash;
  state.contests = null;
  const all = (await contests()).filter((c) => c.training === state.training);
  // Another view may have been asked for while the contests loaded: never send it away.
  if (location.hash !== asked) return;
  if (all.length === 1) {
    location.replace(`#/rekap/${all[0].election}/${all[0].form}/`);
    return;
  }
  const rows = all.map((c) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, h("a", { href: `#/rekap/${c.election}/${c.form}/` }, `${c.election} · ${c.title || c.form}`)),
      h("td", {}, completeness(c.tps_reported, c.tps_expected, c.completeness, `Kelengkapan ${c.election} ${c.form}`)),
    ),
  );
  show(
    h("h2", {}, state.training ? "Kontes latihan" : "Kontes", h("span", { lang: "en" }, " (contests)")),
    all.length
      ? h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Pemilihan · formulir"), h("th", { scope: "col" }, "Kelengkapan"))), h("tbody", {}, rows))
      : h("p", {}, "Belum ada hasil. ", h("span", { lang: "en" }, "(No results yet.)")),
  );
}

// A region's name (from the election's signed manifest, when the hub has one) and its code.
function place(r) {
  return r.name ? `${r.name} (${r.region})` : r.region;
}

function breadcrumb(election, form, path, here) {
  if (!path.length) return null;
  const items = path.map((r) =>
    h("li", {}, h("a", { href: `#/rekap/${election}/${form}/${r.region}` }, r.region ? `${LEVELS[r.level]} ${place(r)}` : LEVELS.nasional)),
  );
  items.push(h("li", { "aria-current": "page" }, here));
  return h("nav", { class: "crumbs", "aria-label": "Wilayah" }, h("ol", {}, items));
}

function totalsTable(info, totals, caption) {
  const ids = info.fields.map((f) => f.id).filter((id) => id in totals);
  return h(
    "table",
    { class: "totals" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Kode"), h("th", { scope: "col" }, "Uraian"), h("th", { scope: "col", class: "num" }, "Jumlah"))),
    h(
      "tbody",
      {},
      ids.map((id) =>
        h(
          "tr",
          { class: info.headline.includes(id) ? "headline" : null },
          h("th", { scope: "row" }, id),
          h("td", {}, fieldLabel(info, id)),
          h("td", { class: "num", "data-field": id }, number(totals[id])),
        ),
      ),
    ),
  );
}

const HELD_LABEL = "perlu verifikasi";

async function regionView(election, form, region) {
  const data = await getJson(`/contests/${enc(election)}/${enc(form)}/regions?region=${enc(region)}`);
  const candidates = data.candidates || {};
  setTraining(data.training);
  const r = data.region;
  const info = data.form_info;
  const title = r.region ? `${r.level_name} ${place(r)}` : "SELURUH WILAYAH";
  const childLevel = data.children_level;
  const headline = info.headline;
  const childRows = data.children.map((c) => {
    const target = childLevel === "tps" ? `#/tps/${election}/${form}/${c.region}` : `#/rekap/${election}/${form}/${c.region}`;
    // A held TPS reported, but its numbers stay out of every total until an operator decides.
    const name = c.held
      ? h("a", { href: target }, place(c), " ", h("em", { class: "held" }, HELD_LABEL))
      : c.tps_reported
        ? h("a", { href: target }, place(c))
        : h("span", {}, place(c), " ", h("em", {}, "(belum masuk)"));
    const open = c.tps_reported || c.held;
    return h(
      "tr",
      { "data-region": c.region, class: c.held ? "clickable held" : open ? "clickable" : "missing", onclick: open ? () => (location.hash = target) : null },
      h("th", { scope: "row" }, name),
      h("td", {}, completeness(c.tps_reported, c.tps_expected, c.completeness, `Kelengkapan ${c.region}`)),
      headline.map((id) => {
        const share = shareOf(c.shares || [], info, id);
        return h("td", { class: "num" }, number(c.totals[id]), share && c.totals[id] !== undefined ? h("span", { class: "share" }, ` · ${share}`) : null);
      }),
    );
  });
  show(
    breadcrumb(election, form, data.path, title),
    h("h2", {}, title, " ", h("small", {}, `${election} · ${info.title || form}`)),
    h("p", { class: "summary", id: "region-summary" }, "TPS masuk ", h("span", { lang: "en" }, "(TPS in)"), ": ", completeness(r.tps_reported, r.tps_expected, r.completeness, `Kelengkapan ${title}`), votersLine(r)),
    data.held_tps.length
      ? h("p", { class: "held", id: "region-held" }, `${number(data.held_tps.length)} TPS ${HELD_LABEL}, tidak dijumlahkan di sini sampai operator memutuskan `, h("span", { lang: "en" }, "(held out of these totals until an operator decides)"), ": ", data.held_tps.join(", "))
      : null,
    h(
      "dl",
      { class: "headline", id: "region-headline" },
      headline.map((id) => {
        const share = shareOf(r.shares || [], info, id);
        return h("div", {}, h("dt", {}, headlineLabel(info, id, candidates)), h("dd", { "data-field": id }, number(r.totals[id])), share ? h("dd", { class: "share", "data-share": id }, share) : null);
      }),
    ),
    shareChart(data.chart_url, r.shares || [], candidates),
    h(
      "section",
      { "aria-labelledby": "children-heading" },
      h("h3", { id: "children-heading" }, childLevel ? `${LEVELS[childLevel]} di ${title}` : ""),
      h(
        "table",
        { class: "children" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, LEVELS[childLevel] || ""), h("th", { scope: "col" }, "Kelengkapan"), headline.map((id) => h("th", { scope: "col", class: "num", "data-short": shortLabel(info, id) }, headlineLabel(info, id, candidates))))),
        h("tbody", {}, childRows),
      ),
    ),
    h("section", { "aria-labelledby": "totals-heading" }, h("h3", { id: "totals-heading" }, "Jumlah ", h("span", { lang: "en" }, "(totals)")), totalsTable(info, r.totals, `Jumlah di ${title}, diperbarui ${when(r.updated_at, r.region || (data.children[0] || {}).region)}`)),
  );
}

const DECISIONS = {
  read: ["terbaca", "read"],
  corrected: ["dikoreksi aturan/gelembung", "corrected"],
  confirmed: ["diragukan, dikonfirmasi KPPS", "doubtful, confirmed"],
  chosen: ["diragukan, dipilih KPPS", "doubtful, chosen by KPPS"],
  entered: ["diragukan, diisi KPPS", "doubtful, entered by KPPS"],
};

function decisionClass(decision) {
  if (decision === "corrected") return "corrected";
  if (decision === "confirmed" || decision === "chosen" || decision === "entered") return "doubtful";
  return null;
}

// SVG elements need their namespace; attributes are set as text, never parsed as markup.
function svg(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) if (value !== null && value !== undefined) node.setAttribute(key, value);
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

// The decisions marked on the form's photo: every number a rule, the bubbles or the KPPS
// settled (a plain reading is not marked). Colours in style.css (svg.marks .<decision>).
const MARKED = ["corrected", "confirmed", "chosen", "entered"];

function marksLegend() {
  return h(
    "ul",
    { class: "marks-legend", id: "marks-legend", "aria-label": "Tanda pada foto formulir" },
    MARKED.map((d) => h("li", { "data-decision": d }, h("span", { class: `swatch ${d}`, "aria-hidden": "true" }), DECISIONS[d][0])),
  );
}

// A box around each marked field of `page`, in the template's millimetres: the overlay's
// viewBox is the page's frame, so it lies over the rectified photo at any size.
function fieldMarks(overlay, page, info, fields) {
  overlay.setAttribute("viewBox", `0 0 ${page.width_mm} ${page.height_mm}`);
  const byId = Object.fromEntries(info.fields.map((f) => [f.id, f]));
  const marks = fields
    .filter((f) => MARKED.includes(f.decision) && byId[f.id] && byId[f.id].page === page.page && byId[f.id].box)
    .map((f) => {
      const [x, y, w, hh] = byId[f.id].box;
      const pad = 2;
      return svg(
        "g",
        { class: `mark ${f.decision}`, "data-field": f.id },
        svg("title", {}, `${f.id}: ${DECISIONS[f.decision][0]}`),
        svg("rect", { x: x - pad, y: y - pad, width: w + 2 * pad, height: hh + 2 * pad, rx: 2 }),
        svg("text", { x: x - pad, y: y - pad - 2 }, f.id),
      );
    });
  overlay.replaceChildren(...marks);
}

function pageFigure(pages, info, fields, onSelect) {
  const stored = pages.filter((p) => p.stored);
  const buttons = pages.map((p) =>
    h(
      "button",
      { type: "button", "data-page": String(p.page), disabled: !p.stored, title: p.stored ? null : "belum diterima hub (not received yet)", onclick: () => select(p) },
      `Halaman ${p.page}`,
      p.stored ? null : " ✗",
    ),
  );
  const group = h("div", { class: "pages", role: "group", "aria-label": "Halaman formulir" }, buttons);
  if (!stored.length) {
    return h("figure", { class: "page" }, group, h("p", {}, "Foto formulir belum diterima hub. ", h("span", { lang: "en" }, "(The form's photos have not reached the hub yet.)")));
  }
  const votes = new Set(info.fields.filter((f) => f.option).map((f) => f.page));
  const img = h("img", { id: "page-image", alt: "" });
  const overlay = svg("svg", { class: "marks", id: "page-marks", preserveAspectRatio: "none", "aria-hidden": "true" });
  const caption = h("figcaption", {});
  // The page, rectified and upright where the kit signed its corners, with the decided
  // fields marked over it; at its own size in a box that scrolls, to read the handwriting.
  const viewer = h("div", { class: "viewer" }, h("div", { class: "sheet" }, img, overlay));
  const zoom = h("button", { type: "button", id: "page-zoom", "aria-pressed": "false" }, "Perbesar ", h("span", { lang: "en" }, "(zoom)"));
  const setZoom = (on) => {
    viewer.classList.toggle("zoomed", on);
    zoom.setAttribute("aria-pressed", String(on));
  };
  zoom.addEventListener("click", () => setZoom(!viewer.classList.contains("zoomed")));
  img.addEventListener("click", () => setZoom(!viewer.classList.contains("zoomed")));
  const full = h("a", { id: "page-full", target: "_blank", rel: "noopener" }, "ukuran penuh ", h("span", { lang: "en" }, "(full size)"));
  const raw = h("a", { id: "page-raw", target: "_blank", rel: "noopener" }, "foto asli ", h("span", { lang: "en" }, "(as taken)"));
  const legend = marksLegend();
  function select(page) {
    const rectified = Boolean(page.rectified_url);
    img.src = rectified ? page.rectified_url : page.url;
    full.href = img.src;
    raw.href = page.url;
    img.alt = `Foto formulir halaman ${page.page}` + (rectified ? ", diluruskan" : "");
    img.dataset.rectified = String(rectified);
    overlay.style.display = rectified ? "" : "none";
    legend.hidden = !rectified;
    if (rectified) fieldMarks(overlay, page, info, fields);
    const how = rectified
      ? ["diluruskan menurut sudut halaman yang ditandatangani kit · ", raw, " · "]
      : ["foto asli (kit tidak menandatangani sudut halaman) · "];
    caption.replaceChildren(`Halaman ${page.page} · SHA-256 ${short(page.sha256)} · `, ...how, full);
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.page === String(page.page)));
    onSelect(page.page);
  }
  queueMicrotask(() => select(stored.find((p) => votes.has(p.page)) || stored[0]));
  return h("figure", { class: "page" }, h("div", { class: "pages" }, group, zoom), viewer, caption, legend);
}

function fieldRow(info, f, candidates) {
  const [text, en] = DECISIONS[f.decision] || [f.decision, ""];
  const before = f.read_as !== null && f.read_as !== undefined ? ` (terbaca ${f.read_as})` : "";
  const page = (info.fields.find((x) => x.id === f.id) || {}).page;
  const marks = [decisionClass(f.decision), f.changed_since_first ? "changed" : null].filter(Boolean);
  return h(
    "tr",
    { class: marks.join(" ") || null, "data-field": f.id, "data-page": page ? String(page) : null },
    h("th", { scope: "row" }, f.id),
    h("td", {}, fieldLabel(info, f.id, candidates)),
    h("td", { class: "num" }, number(f.value)),
    h("td", {}, text + before, " ", h("span", { lang: "en", class: "en" }, `(${en})`), f.changed_since_first ? h("strong", { class: "flag", title: "berbeda dari laporan pertama TPS ini (differs from the first report)" }, " · berubah") : null),
  );
}

// One tbody per form page, in the form's order, so the rows read like the sheet.
function fieldsTable(data) {
  const info = data.form_info;
  const byId = Object.fromEntries(data.fields.map((f) => [f.id, f]));
  const pages = new Map();
  for (const field of info.fields.filter((f) => f.id in byId)) {
    const key = field.page || 0;
    if (!pages.has(key)) pages.set(key, []);
    pages.get(key).push(byId[field.id]);
  }
  const bodies = [...pages].map(([page, fields]) =>
    h(
      "tbody",
      {},
      h("tr", { class: "page-heading" }, h("th", { colspan: "4", scope: "rowgroup" }, page ? `Halaman ${page}` : "Lainnya")),
      fields.map((f) => fieldRow(info, f, data.candidates || {})),
    ),
  );
  return h(
    "table",
    { class: "fields" },
    h("caption", {}, "Angka yang dihitung ", h("span", { lang: "en" }, "(the numbers that count)")),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Kode"), h("th", { scope: "col" }, "Uraian"), h("th", { scope: "col", class: "num" }, "Nilai"), h("th", { scope: "col" }, "Cara diputuskan"))),
    bodies,
  );
}

// The rows of the page whose photo is shown are marked, so the eye finds them beside it.
function markPage(table, page) {
  for (const row of table.querySelectorAll("tr[data-page]")) row.classList.toggle("on-page", row.dataset.page === String(page));
}

function versionsTable(data) {
  return h(
    "table",
    { class: "versions" },
    h("caption", {}, "Riwayat versi ", h("span", { lang: "en" }, "(version history, oldest first)")),
    h("thead", {}, h("tr", {}, ["Seq", "Kit", "Dipindai", "Diterima hub", "Hash dokumen", "Rantai", "Log", "Status", "Perubahan", "Bukti"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      data.versions.map((v) =>
        h(
          "tr",
          { class: v.counts ? "counts" : null, "data-sha256": v.document_sha256 },
          h("td", {}, v.seq),
          h("td", { class: "nowrap" }, v.kit),
          h("td", { class: "nowrap" }, when(v.captured_at, data.tps)),
          h("td", { class: "nowrap" }, when(v.received_at, data.tps)),
          h("td", {}, h("code", { title: v.document_sha256 }, short(v.document_sha256))),
          h("td", {}, v.chain_status),
          h("td", { class: "nowrap" }, `${v.log_id} #${v.log_index}`),
          h("td", {}, v.counts ? h("strong", {}, "dihitung") : "diganti"),
          h("td", {}, v.changes.length ? h("details", {}, h("summary", {}, `${v.changes.length} angka berubah`), v.changes.join(", ")) : "–"),
          h("td", {}, h("a", { href: v.signed_url, download: "" }, "dokumen"), " · ", h("a", { href: v.inclusion_url }, "bukti inklusi")),
        ),
      ),
    ),
  );
}

function anomalyList(rows) {
  if (!rows.length) return h("p", {}, "Tidak ada anomali terbuka. ", h("span", { lang: "en" }, "(No open anomalies.)"));
  return h("ul", { class: "anomalies" }, rows.map((a) => h("li", { "data-kind": a.kind }, a.sentence || a.detail, " ", h("small", { class: "en" }, `(${a.kind}, ${when(a.detected_at, a.tps)})`))));
}

async function tpsView(election, form, code) {
  const data = await getJson(`/contests/${enc(election)}/${enc(form)}/tps/${enc(code)}`);
  setTraining(data.training);
  const parts = code.split(".");
  const path = [{ region: "", level: "nasional" }];
  const levels = ["provinsi", "kabkota", "kecamatan", "desa"];
  const names = data.names || {};
  for (let i = 1; i < parts.length; i++) path.push({ region: parts.slice(0, i).join("."), level: levels[i - 1], name: names[levels[i - 1]] });
  const where = levels.filter((l) => names[l]).reverse().map((l) => (l === "kabkota" ? names[l] : `${LEVELS[l]} ${names[l]}`)).join(", ");
  const c = data.counting;
  const table = fieldsTable(data);
  show(
    breadcrumb(election, form, path, `TPS ${code}`),
    h("h2", {}, `TPS ${code} `, h("small", {}, `${election} · ${data.form_info.title || form}`)),
    where ? h("p", { class: "place", id: "tps-place" }, where) : null,
    data.held
      ? h("p", { class: "held", id: "tps-held" }, `${HELD_LABEL}: angka ini melanggar batas formulir dan tidak dijumlahkan sampai operator memutuskan. `, h("span", { lang: "en" }, "(These numbers break a hard limit of the form and are not summed until an operator decides.)"))
      : null,
    h("p", { class: "summary" }, `Versi yang dihitung: seq ${c.seq} dari kit ${c.kit}, dipindai ${when(c.captured_at, code)}, hash `, h("code", { title: c.document_sha256 }, short(c.document_sha256)), ` · ${data.versions.length} versi`, data.dpt === null || data.dpt === undefined ? null : ` · DPT ${number(data.dpt)} pemilih`),
    shareChart(data.chart_url, data.held ? [] : data.shares || [], data.candidates || {}, ["di TPS ini", "at this TPS"]),
    h("p", { class: "legend" }, h("span", { class: "doubtful" }, "diragukan (doubtful)"), " ", h("span", { class: "corrected" }, "dikoreksi (corrected)"), " ", h("span", { class: "changed" }, "berubah sejak laporan pertama (changed since first report)")),
    h("div", { class: data.pages.some((p) => p.stored) ? "tps" : "tps no-photo" }, pageFigure(data.pages, data.form_info, data.fields, (page) => markPage(table, page)), table),
    h("section", { "aria-labelledby": "versions-heading" }, h("h3", { id: "versions-heading" }, "Versi"), versionsTable(data)),
    h("section", { "aria-labelledby": "tps-anomalies" }, h("h3", { id: "tps-anomalies" }, "Anomali TPS ini"), anomalyList(data.anomalies)),
    reportsSection(election, form, code, data),
  );
}

// -- citizens' reports: the photo says otherwise ---------------------------------------------

function reportItem(r, info) {
  const label = fieldLabel(info, r.field);
  const shown = r.shown_value === null ? "–" : number(r.shown_value);
  return h(
    "li",
    { "data-report": String(r.id), class: r.resolved_at ? "resolved" : "open" },
    `${r.field}${typeof label === "string" && label ? ` (${label})` : ""}: hub menampilkan ${shown}, di foto terbaca ${number(r.read_value)}`,
    r.note ? ` · “${r.note}”` : "",
    h("small", { class: "en" }, ` (${when(r.created_at, r.tps)})`),
    r.resolved_at ? h("div", { class: "resolution" }, `Diselesaikan operator ${when(r.resolved_at, r.tps)}: ${r.resolution}`) : h("div", { class: "caveat" }, "Menunggu pemeriksaan operator; angka tidak berubah karena laporan."),
  );
}

// Listed, and a form to add one; a report is stored apart and never changes a number.
function reportsSection(election, form, code, data) {
  const base = `/contests/${enc(election)}/${enc(form)}/tps/${enc(code)}/reports`;
  const list = h("ul", { id: "reports-list", class: "reports" });
  const out = h("p", { id: "report-result", role: "status" });
  const section = h(
    "section",
    { "aria-labelledby": "reports-heading", id: "reports" },
    h("h3", { id: "reports-heading" }, "Laporan warga ", h("span", { lang: "en" }, "(citizens' reports)")),
    h("p", { class: "caveat" }, "Foto dan angka tidak cocok? Laporkan kolomnya dan angka yang Anda baca di foto. Laporan disimpan terpisah, diperiksa operator, dan tidak pernah mengubah angka."),
    list,
  );
  const fill = (reports) => {
    list.replaceChildren(...reports.map((r) => reportItem(r, data.form_info)));
    if (!reports.length) list.replaceChildren(h("li", { class: "none" }, "Belum ada laporan."));
  };
  getJson(base)
    .then((answer) => {
      fill(answer.reports);
      if (!answer.accepting) return;
      const field = h("select", { id: "report-field", name: "field", required: true }, data.fields.map((f) => h("option", { value: f.id }, `${f.id} · ${number(f.value)}`)));
      const value = h("input", { id: "report-value", name: "read_value", type: "number", min: "0", max: "999", required: true, inputmode: "numeric" });
      const note = h("input", { id: "report-note", name: "note", type: "text", maxlength: "500" });
      const submit = h("button", { type: "submit" }, "Kirim laporan ", h("span", { lang: "en" }, "(send)"));
      const formNode = h(
        "form",
        {
          id: "report-form",
          onsubmit: async (event) => {
            event.preventDefault();
            submit.disabled = true;
            try {
              const response = await fetch(API + base, {
                method: "POST",
                headers: { "Content-Type": "application/json", Accept: "application/json" },
                body: JSON.stringify({ field: field.value, read_value: Number(value.value), note: note.value }),
              });
              const body = await response.json().catch(() => ({ detail: response.statusText }));
              if (!response.ok) throw new Error(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
              put(out, h("span", { class: "yes" }, `Terima kasih: laporan #${body.id} tersimpan untuk diperiksa operator.`));
              fill((await getJson(base)).reports);
            } catch (error) {
              put(out, h("span", { class: "no" }, `Laporan tidak tersimpan: ${error.message}`));
            }
            submit.disabled = false;
          },
        },
        h("label", { for: "report-field" }, "Kolom "),
        field,
        h("label", { for: "report-value" }, " Angka di foto "),
        value,
        h("label", { for: "report-note" }, " Catatan "),
        note,
        " ",
        submit,
      );
      section.append(formNode, out);
    })
    .catch((error) => list.replaceChildren(h("li", { class: "error" }, `Gagal memuat laporan: ${error.message}`)));
  return section;
}

// -- long lists, a page at a time -------------------------------------------------------------

// The page size: the API's default, or ?limit=n in the view's address (to look at paging).
function pageSize(query) {
  const asked = Number.parseInt(query.get("limit") || "", 10);
  return Number.isInteger(asked) && asked > 0 ? asked : 200;
}

const pagePath = (path, limit, after, cursor = "after") => `${path}&limit=${limit}` + (after === null || after === undefined ? "" : `&${cursor}=${enc(String(after))}`);

// A "more" button under a list the API pages: each click fetches the next page and hands
// its items to append, until the API says there is no next page.
function moreButton(id, next, fetchPage, append) {
  let after = next;
  const button = h("button", { type: "button", id, class: "more", hidden: after === null }, "Muat lebih banyak ", h("span", { lang: "en" }, "(more)"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const page = await fetchPage(after);
      append(page.items);
      cards(view());
      after = page.next;
    } catch (error) {
      button.replaceWith(failure(error));
      return;
    }
    button.hidden = after === null;
    button.disabled = false;
  });
  return button;
}

// A kit's state in words; which state it is, the hub decides (one definition for every
// page and command: hub/recap/seen.py).
const KIT_STATES = {
  online: ["online", "online"],
  "said-offline": ["terputus", "disconnected: its last will, heard recently"],
  silent: ["tanpa kabar", "silent"],
  revoked: ["dicabut", "revoked"],
};

function kitRow(k) {
  const queue = k.status && k.status.queue ? k.status.queue.pending_documents : null;
  const [label, en] = KIT_STATES[k.category] || [k.category, ""];
  return h(
    "tr",
    { class: `${k.category === "online" ? "online" : k.category === "revoked" ? "revoked" : "offline"} ${k.category}`, "data-kit": k.kit, "data-state": k.category },
    h("th", { scope: "row" }, k.kit),
    h("td", {}, k.tps || "–"),
    h("td", {}, k.election || "–"),
    h("td", {}, h("span", { class: "badge", title: en }, label)),
    h("td", {}, k.last_seen ? when(k.last_seen, k.tps) : "belum pernah (never)"),
    h("td", { class: "num" }, queue === null || queue === undefined ? "–" : number(queue)),
    h("td", {}, k.status && k.status.software ? k.status.software : "–"),
  );
}

async function kitsView(query) {
  const limit = pageSize(query);
  const path = (after) => pagePath(`/kits?training=${state.training}`, limit, after);
  const data = await getJson(path(null));
  const body = h("tbody", {}, data.kits.map(kitRow));
  const shown = h("span", { id: "kits-shown" });
  const count = () => shown.replaceChildren(`${number(body.rows.length)} dari ${number(data.total)} kit ditampilkan`);
  count();
  const more = moreButton(
    "kits-more",
    data.next_after,
    async (after) => {
      const page = await getJson(path(after));
      return { items: page.kits, next: page.next_after };
    },
    (kits) => {
      body.append(...kits.map(kitRow));
      count();
    },
  );
  show(
    h("h2", {}, "Kit ", h("span", { lang: "en" }, "(kits online and offline)")),
    h(
      "p",
      { class: "summary", id: "kit-summary" },
      `Online: ${number(data.online)} · Terputus: ${number(data.said_offline)} `,
      h("span", { class: "en" }, `(kit melapor offline dalam ${data.silent_after_minutes} menit terakhir)`),
      ` · Tanpa kabar: ${number(data.silent)} `,
      h("span", { class: "en" }, `(lebih dari ${data.silent_after_minutes} menit, atau belum pernah)`),
      ` · Dicabut: ${number(data.revoked)} · waktu hub ${when(data.now)} · `,
      shown,
    ),
    h(
      "table",
      { class: "kits" },
      h("thead", {}, h("tr", {}, ["Kit", "TPS", "Pemilihan", "Status", "Terakhir terdengar", "Antrean", "Perangkat lunak"].map((t) => h("th", { scope: "col" }, t)))),
      body,
    ),
    more,
  );
}

function anomalyRow(a, formOf) {
  const form = a.election && formOf(a.election);
  const tps = a.tps && form ? h("a", { href: `#/tps/${a.election}/${form}/${a.tps}` }, a.tps) : a.tps || "–";
  return h("tr", { "data-kind": a.kind, "data-id": String(a.id) }, h("td", { class: "nowrap" }, when(a.detected_at, a.tps)), h("td", { class: "sentence" }, a.sentence || a.detail, " ", h("small", { class: "en" }, `(${a.kind})`)), h("td", { class: "nowrap" }, tps), h("td", { class: "nowrap" }, a.kit || "–"));
}

const silentItem = (s) => h("li", { "data-kit": s.kit }, `${s.kit} (TPS ${s.tps || "?"}): `, s.last_seen ? `terakhir ${when(s.last_seen, s.tps)}` : "belum pernah terdengar");

function missingImageItem(p, formOf) {
  const form = formOf(p.election) || p.form;
  return h("li", { "data-page": `${p.tps}/${p.page}` }, h("a", { href: `#/tps/${p.election}/${form}/${p.tps}` }, `TPS ${p.tps}`), `: foto halaman ${p.page} belum diterima hub (laporan kit ${p.kit} no. ${p.seq}, masuk ${when(p.received_at, p.tps)}), jadi angkanya belum bisa dibandingkan dengan formulir.`);
}

function strangerItem(u) {
  const why = u.reason === "kit" ? "kit ini tidak ada dalam daftar kit (registry) hub" : "TPS ini tidak ada dalam daftar TPS yang diharapkan";
  return h("li", { "data-kit": u.kit }, `Kit ${u.kit}, TPS ${u.tps}: ${why}. Hasilnya tetap dihitung, tetapi ${u.tps_expected ? "" : "tidak masuk kelengkapan; "}operator perlu mengekspor registry lagi.`);
}

async function anomaliesView(query) {
  const limit = pageSize(query);
  const base = `/anomalies?training=${state.training}`;
  const data = await getJson(pagePath(base, limit, null));
  const known = await contests();
  const formOf = (election) => (known.find((c) => c.election === election) || {}).form;
  const body = h("tbody", {}, data.anomalies.map((a) => anomalyRow(a, formOf)));
  const silent = h("ul", { id: "silent-kits" }, data.silent_kits.map(silentItem));
  const moreAnomalies = moreButton(
    "anomalies-more",
    data.next_after,
    async (after) => {
      const page = await getJson(pagePath(base, limit, after));
      return { items: page.anomalies, next: page.next_after };
    },
    (rows) => body.append(...rows.map((a) => anomalyRow(a, formOf))),
  );
  const moreSilent = moreButton(
    "silent-more",
    data.next_silent_kit_after,
    async (after) => {
      const page = await getJson(pagePath(base, limit, after, "silent_kit_after"));
      return { items: page.silent_kits, next: page.next_silent_kit_after };
    },
    (kits) => silent.append(...kits.map(silentItem)),
  );
  const reports = await getJson("/reports");
  const reportRows = reports.reports.map((r) =>
    h("li", { "data-report": String(r.id) }, h("a", { href: `#/tps/${r.election}/${r.form}/${r.tps}` }, `TPS ${r.tps}`), `: ${r.field} hub ${r.shown_value === null ? "–" : number(r.shown_value)}, foto ${number(r.read_value)}`, r.note ? ` · “${r.note}”` : "", h("small", { class: "en" }, ` (${when(r.created_at, r.tps)})`)),
  );
  show(
    h("h2", {}, "Anomali ", h("span", { lang: "en" }, "(anomalies)"), " ", h("small", { id: "anomalies-total" }, `${number(data.anomalies_total)} terbuka`)),
    data.anomalies_total
      ? h("table", { class: "anomalies" }, h("thead", {}, h("tr", {}, ["Terdeteksi", "Apa yang terjadi", "TPS", "Kit"].map((t) => h("th", { scope: "col" }, t)))), body)
      : h("p", {}, "Tidak ada anomali terbuka. ", h("span", { lang: "en" }, "(No open anomalies.)")),
    moreAnomalies,
    h("h3", {}, `Kit tanpa kabar lebih dari ${data.silent_after_minutes} menit (atau belum pernah) `, h("small", { id: "silent-total" }, `(${number(data.silent_kits_total)})`)),
    data.silent_kits_total ? silent : h("p", {}, "Tidak ada."),
    moreSilent,
    h("h3", {}, `Foto formulir belum diterima lebih dari ${data.images_after_minutes} menit `, h("small", { id: "images-missing-total" }, `(${number(data.images_missing_total)})`)),
    data.images_missing_total ? h("ul", { id: "images-missing" }, data.images_missing.map((p) => missingImageItem(p, formOf))) : h("p", {}, "Tidak ada."),
    data.not_in_registry_total ? h("h3", {}, "Kit atau TPS di luar daftar ", h("small", { id: "not-in-registry-total" }, `(${number(data.not_in_registry_total)})`)) : null,
    data.not_in_registry_total ? h("ul", { id: "not-in-registry" }, data.not_in_registry.map(strangerItem)) : null,
    reports.accepting ? h("h3", {}, "Laporan warga terbuka ", h("small", { id: "reports-total" }, `(${number(reportRows.length)})`)) : null,
    reports.accepting ? (reportRows.length ? h("ul", { id: "open-reports" }, reportRows) : h("p", {}, "Tidak ada.")) : null,
  );
}

// -- receipts and their inclusion proofs -------------------------------------------------------

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const base64Bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

// RFC 9162 §2.1.3.2: the root an inclusion proof leads to, from the leaf's hash.
async function rootFromProof(index, size, leafHash, path) {
  const { sha256 } = window.tpsSha256;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of path.map(hexToBytes)) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat(Uint8Array.of(1), p, r));
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await sha256(concat(Uint8Array.of(1), r, p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// DSSE allows the URL-safe base64 alphabet too.
const dsseBytes = (text) => base64Bytes(text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "="));

// What the page can check without the region's CA: that the signed bytes the hub serves are
// the receipt's document (the SHA-256 of their payload is the receipt's hash), and that they
// are the leaf the proof places under the hub's signed tree head. Neither signature (the
// kit's, the hub's) is checked here: that is tps-verify's job, with the region's CA.
async function checkInclusion(receipt, document, proof) {
  const { sha256 } = window.tpsSha256;
  const response = await fetch(document.signed_url);
  if (!response.ok) return { ok: false, why: `dokumen tidak dapat diambil (${response.status})` };
  const signed = new Uint8Array(await response.arrayBuffer());
  const bundle = JSON.parse(new TextDecoder().decode(signed));
  const documentSha = toHex(await sha256(dsseBytes(bundle.envelope.payload)));
  const envelope = JSON.parse(new TextDecoder().decode(base64Bytes(proof.tree_head)));
  const head = JSON.parse(new TextDecoder().decode(dsseBytes(envelope.payload)));
  const checks = [
    [documentSha === receipt.sha256, "hash dokumen ≠ hash pada tanda terima (the document is not the receipt's)"],
    [documentSha === proof.document_sha256 && documentSha === document.document_sha256, "bukti untuk dokumen lain (the proof is for another document)"],
    [Number.isInteger(proof.leaf_index) && proof.leaf_index >= 0 && proof.leaf_index < proof.tree_size && proof.leaf_index === document.log_index, "nomor daun di luar pohon (leaf index outside the tree)"],
    [head.tree_size === proof.tree_size && head.log_id === document.log_id && proof.log_id === document.log_id, "kepala pohon untuk log atau ukuran lain (tree head of another log or size)"],
  ];
  const failed = checks.find(([ok]) => !ok);
  if (failed) return { ok: false, why: failed[1] };
  const leaf = await sha256(concat(Uint8Array.of(0), signed));
  const root = await rootFromProof(proof.leaf_index, proof.tree_size, leaf, proof.inclusion_proof);
  if (root === null || toHex(root) !== head.root_hash) return { ok: false, why: "akar tidak cocok dengan kepala pohon (root does not match the tree head)" };
  return { ok: true, head };
}


// Green for the answer a reader hopes for, red for the one to look into.
function yesNo(value, hoped = true) {
  const mark = value === hoped ? "yes" : "no";
  return h("strong", { class: mark }, value ? "Ya (yes)" : "Tidak (no)");
}

async function receiptResult(text, out) {
  put(out, h("p", {}, "Memeriksa…"));
  let data;
  try {
    data = await getJson(`/receipts?qr=${enc(text)}`);
  } catch (error) {
    put(out, h("p", { class: "error", role: "alert", id: "receipt-error" }, `Tanda terima tidak valid: ${error.message}`));
    return;
  }
  setTraining(data.receipt.training);
  const proofCell = h("dd", { id: "receipt-proof" }, data.inclusion ? "memeriksa…" : "tidak ada (no proof: document not held or not yet logged)");
  const counting = data.counting.map((c) =>
    h("li", {}, h("a", { href: `#/tps/${c.election}/${c.form}/${c.tps}` }, `${c.election} ${c.form} TPS ${c.tps}`), `: seq ${c.seq} kit ${c.kit}, hash `, h("code", { title: c.document_sha256 }, short(c.document_sha256))),
  );
  put(
    out,
    h("p", { class: `verdict ${data.verdict}`, id: "receipt-verdict", role: "status" }, data.pesan || data.verdict, " ", h("span", { lang: "en", class: "en" }, `(${data.message})`)),
    h(
      "dl",
      { class: "receipt" },
      h("dt", {}, "Hub menyimpan persis dokumen ini ", h("span", { lang: "en" }, "(holds exactly this document)")),
      h("dd", { id: "receipt-holds" }, yesNo(data.holds_document)),
      h("dt", {}, "Versi yang dihitung ", h("span", { lang: "en" }, "(the version that counts)")),
      h("dd", { id: "receipt-counts" }, yesNo(data.counts)),
      h("dt", {}, "Ada versi lebih baru ", h("span", { lang: "en" }, "(a newer version counts)")),
      h("dd", { id: "receipt-newer" }, yesNo(data.newer_version, false)),
      h("dt", {}, "Bukti inklusi di log transparansi ", h("span", { lang: "en" }, "(inclusion proof)")),
      proofCell,
    ),
    data.mismatches.length ? h("ul", { class: "mismatches" }, data.mismatches.map((m) => h("li", {}, m))) : null,
    counting.length ? h("div", {}, h("h3", {}, "Yang dihitung untuk TPS ini"), h("ul", {}, counting)) : null,
  );
  if (data.inclusion && data.document) {
    try {
      const { ok, head, why } = await checkInclusion(data.receipt, data.document, data.inclusion);
      proofCell.replaceChildren(
        ok
          ? h("strong", { class: "yes" }, `konsisten dengan tree head hub (consistent with the hub's tree head) — daun #${data.inclusion.leaf_index} di pohon berukuran ${head.tree_size}, akar ${short(head.root_hash)}`)
          : h("strong", { class: "no" }, `GAGAL: ${why}`),
        ok ? h("span", { class: "caveat" }, " · tanda tangan tidak diperiksa di halaman ini; periksa dengan tps-verify (signatures are not checked in this page: check with tps-verify)") : null,
        " ",
        h("a", { href: data.document.inclusion_url }, "JSON"),
      );
    } catch (error) {
      proofCell.replaceChildren(h("span", { class: "no" }, `tidak dapat diperiksa: ${error.message}`));
    }
  }
}

// A receipt given in the address is answered before the page says it is ready.
async function receiptView(query) {
  const out = h("div", { id: "receipt-result", "aria-live": "polite" });
  const input = h("input", { id: "receipt-qr", name: "qr", type: "text", autocomplete: "off", spellcheck: "false", placeholder: "TPSR1|31.71.01.1001.001|1|…", value: query.get("qr") || "" });
  const form = h(
    "form",
    {
      id: "receipt-form",
      onsubmit: (event) => {
        event.preventDefault();
        receiptResult(input.value.trim(), out);
      },
    },
    h("label", { for: "receipt-qr" }, "Isi kode QR tanda terima kit ", h("span", { lang: "en" }, "(the receipt's QR text)")),
    input,
    h("button", { type: "submit" }, "Periksa ", h("span", { lang: "en" }, "(check)")),
  );
  show(
    h("h2", {}, "Cek tanda terima ", h("span", { lang: "en" }, "(receipt look-up)")),
    h("p", {}, "Tempel teks kode QR dari tanda terima yang ditampilkan kit setelah menandatangani hasil. Hub menjawab apakah ia menyimpan persis dokumen itu, apakah itu versi yang dihitung, dan bukti inklusinya."),
    form,
    out,
  );
  if (input.value) await receiptResult(input.value.trim(), out);
}

// -- routing -----------------------------------------------------------------------------------

const enc = encodeURIComponent;

async function route() {
  const mine = ++state.route;
  const [path, search] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter((p, i) => i > 0 || p).map(decodeURIComponent);
  const query = new URLSearchParams(search || "");
  const section = parts[0] || "rekap";
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  try {
    if (state.zones === null) state.zones = await getJson("/time-zones");
    if (section === "rekap" && parts.length >= 3) await regionView(parts[1], parts[2], parts[3] || "");
    else if (section === "tps" && parts.length === 4) await tpsView(parts[1], parts[2], parts[3]);
    else if (section === "kit") await kitsView(query);
    else if (section === "anomali") await anomaliesView(query);
    else if (section === "tanda-terima") await receiptView(query);
    else await contestsView();
  } catch (error) {
    if (error instanceof Stale) return; // a newer route draws the page
    show(failure(error));
  }
  await logWitnesses();
  if (mine === state.route) document.body.dataset.ready = section;
}

// Who vouches for the log besides the hub: the witnesses that cosigned its newest cosigned
// checkpoint, and how much of the log that covers (ingest signs a newer checkpoint with every
// batch, so the latest one is seldom cosigned yet).
async function logWitnesses() {
  const line = document.getElementById("log-witnesses");
  if (!line) return;
  try {
    const { logs } = await getJson("/logs");
    const log = logs.find((l) => l.training === state.training);
    if (!log || !log.latest) {
      line.replaceChildren("Log transparansi: belum ada kepala pohon yang ditandatangani.");
      return;
    }
    const size = `Log transparansi ${log.log_id}: ${number(log.latest.tree_size)} hasil, kepala pohon terakhir ${when(log.latest.timestamp)}. `;
    const seen = log.witnessed;
    const covers = !seen
      ? ""
      : seen.tree_size === log.latest.tree_size
        ? " (checkpoint terakhir)"
        : ` (${number(seen.tree_size)} hasil pertama dari ${number(log.latest.tree_size)}; yang lebih baru menunggu putaran saksi berikutnya)`;
    const witnesses = seen
      ? `Disaksikan (cosigned) oleh: ${seen.cosigned_by.join(", ")}, sampai ukuran ${number(seen.tree_size)}${covers}.`
      : "Belum ada saksi (witness) yang ikut menandatanganinya: hanya hub yang menjaminnya.";
    line.replaceChildren(size, h("span", { id: "log-cosigners" }, witnesses));
  } catch (error) {
    if (!(error instanceof Stale)) line.replaceChildren("Log transparansi: tidak terbaca.");
  }
}

function onModeChange(event) {
  setTraining(event.target.value === "training");
  const section = location.hash.replace(/^#\/?/, "").split("/")[0];
  // A contest's own pages belong to one mode: switching goes back to that mode's contests.
  if ((section === "rekap" || section === "tps") && location.hash !== "#/rekap") location.hash = "#/rekap";
  else route();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll('#mode input[name="mode"]')) input.addEventListener("change", onModeChange);
  window.addEventListener("hashchange", route);
  route();
});
