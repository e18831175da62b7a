// HETERO-2 dashboard: one ES module, no framework, no build step. It talks only to the public API (/v1/...)
// and to the presigned object-store URLs the API hands out. DOM is built with createElement/textContent only
// (never innerHTML with data), so nothing from the API can become markup or script here.
import { verifyPack } from "./verify.js";

const TERMINAL = new Set(["SUCCEEDED", "SUCCEEDED_WITH_ERRORS", "FAILED", "CANCELLED"]);
const DONE = new Set(["SUCCEEDED", "SUCCEEDED_WITH_ERRORS"]);
const ARTIFACTS = ["pack", "report", "summary", "manifest", "decoys", "public_key"];
const SCORERS = ["qed", "sa", "composition", "good", "mock", "constant", "random"];
const MAX_INPUT_BYTES = 50 * 1024 * 1024;
const EXTENSIONS = [".csv", ".tsv", ".smi", ".sdf"];
const RUNNER_ROLES = new Set(["run", "admin"]);

const RETRYABLE = new Set(["FAILED", "CANCELLED"]);
const DECOY_COLUMNS = ["molecule_id", "role", "hash", "smiles"];

// verified: job id → the badge's last result, so that a re-render (after sharing, say) keeps it
const state = { config: null, token: null, org: null, user: null, orgRole: null, externalSharing: false, projects: [], timer: null, verified: new Map() };

// ---------- tiny DOM helpers ----------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
function render(title, ...children) {
  const main = document.getElementById("main");
  main.replaceChildren(h("h1", {}, title), ...children);
  document.title = `${title} · HETERO-2`;
}
function toast(message) {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.classList.add("show");
  setTimeout(() => t.classList.remove("show"), 3000);
}
function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }
function eta(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `about ${Math.round(s / 60)} min left` : `about ${s} s left`;
}
function model(job) {
  const p = job.parameters || {};
  if (!p.model_name && !p.model_version) return "—";
  return [p.model_name || "?", p.model_version].filter(Boolean).join(" ");
}
function decisionEl(job) {
  const outcome = job.decision && job.decision.outcome;
  return outcome ? h("span", { class: `state decision-${outcome}`, title: job.decision.sentence || "" }, outcome) : "—";
}
function stateEl(job) {
  // A queued job shows its place in the queue when the API gives one (the queue's record field, if present).
  const position = job.queue_position ?? job.queue?.position;
  const text = job.state === "QUEUED" && position !== undefined && position !== null ? `QUEUED · #${position} in queue` : job.state;
  return h("span", { class: `state state-${job.state}` }, text);
}
function creator(job) {
  if (job.created_by_name && job.created_by) return `${job.created_by_name} (${job.created_by})`;
  return job.created_by || (job.source === "drop_folder" ? "drop folder" : "");
}
function progressEl(job) {
  const p = job.progress || {};
  const total = p.rows_total || job.expected_rows || 0;
  const done = TERMINAL.has(job.state) && DONE.has(job.state) ? total : p.rows_done || 0;
  return h("span", {},
    h("progress", { max: total || 1, value: done, "aria-label": `${done} of ${total} rows` }),
    ` ${done}/${total}`, TERMINAL.has(job.state) ? "" : h("span", { class: "muted eta" }, ` ${eta(p.eta_seconds)}`));
}

// ---------- session ----------
function claims(token) {
  const part = token.split(".")[1] || "";
  return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=")));
}
function signIn(token) {
  const c = claims(token);
  if (!c["hetero2:org"] || !c.sub) throw new Error("this token carries no org or user");
  sessionStorage.setItem("hetero2.token", token);
  state.token = token; state.org = c["hetero2:org"]; state.user = c.sub;
}
function signOut() {
  sessionStorage.removeItem("hetero2.token");
  Object.assign(state, { token: null, org: null, user: null, orgRole: null, projects: [] });
  location.hash = "#/";
  route();
}

// ---------- API ----------
class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status; this.code = e.code; this.details = e.details || [];
  }
}
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST") headers["Idempotency-Key"] = crypto.randomUUID();
  const res = await fetch(`${state.config.api_url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = res.headers.get("Content-Type")?.includes("json") ? await res.json() : null;
  if (res.status === 401) { signOut(); throw new ApiError(401, data); }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}
const projectPath = (project) => `/v1/orgs/${encodeURIComponent(state.org)}/projects/${encodeURIComponent(project)}`;
const jobPath = (project, job) => `${projectPath(project)}/jobs/${encodeURIComponent(job)}`;

function projectRole(project) {
  if (state.orgRole === "org_admin") return "admin";
  const p = state.projects.find((x) => x.project === project);
  return p ? p.your_role : null;
}
const canRun = (project) => RUNNER_ROLES.has(projectRole(project));
const canDelete = (project) => projectRole(project) === "admin";

// ---------- OIDC: authorization code with PKCE (RFC 7636), a public client, no secret ----------
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const redirectUri = () => `${location.origin}${location.pathname}`;
async function discovery(oidc) {
  const res = await fetch(`${oidc.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`the identity provider's discovery document answered HTTP ${res.status}`);
  return res.json();
}
async function oidcStart() {
  const oidc = state.config.oidc;
  const meta = await discovery(oidc);
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const nonce = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("hetero2.pkce", JSON.stringify({ verifier, state: nonce }));
  const params = new URLSearchParams({ response_type: "code", client_id: oidc.client_id, redirect_uri: redirectUri(),
    scope: oidc.scope || "openid", code_challenge: challenge, code_challenge_method: "S256", state: nonce });
  location.assign(`${meta.authorization_endpoint}?${params}`);
}
async function oidcFinish() {
  // Back from the identity provider with ?code=&state=: check state, swap the code and our verifier for tokens.
  const query = new URLSearchParams(location.search);
  if (!query.has("code") && !query.has("error")) return;
  const saved = JSON.parse(sessionStorage.getItem("hetero2.pkce") || "null");
  sessionStorage.removeItem("hetero2.pkce");
  history.replaceState(null, "", `${location.pathname}#/`);
  if (query.has("error")) throw new Error(`the identity provider refused: ${query.get("error")}`);
  if (!saved || saved.state !== query.get("state")) throw new Error("the sign-in answer does not match the request (state)");
  const meta = await discovery(state.config.oidc);
  const res = await fetch(meta.token_endpoint, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: query.get("code"), redirect_uri: redirectUri(),
      client_id: state.config.oidc.client_id, code_verifier: saved.verifier }) });
  if (!res.ok) throw new Error(`the token endpoint answered HTTP ${res.status}`);
  const tokens = await res.json();
  signIn(tokens.access_token || tokens.id_token);
}

// ---------- pages ----------
function signInPage() {
  const error = h("p", { class: "error", id: "token-error", role: "alert" });
  const input = h("input", { id: "token", type: "password", autocomplete: "off", "aria-describedby": "token-help token-error" });
  const form = h("form", { class: "card", onsubmit: (ev) => {
      ev.preventDefault();
      try { signIn(input.value.trim()); location.hash = "#/"; route(); } catch (e) { error.textContent = `Not a usable token: ${e.message}`; }
    } },
    h("div", { class: "field" }, h("label", { for: "token" }, "API token"),
      h("small", { id: "token-help", class: "muted" }, "The HETERO2_TOKEN that `hetero2 serve` prints, or one from your identity provider."), input),
    error, h("button", { type: "submit" }, "Sign in with token"));
  const demo = state.config.demo_sign_in
    ? h("div", { class: "card" }, h("p", {}, "Local server: sign in as the demo org's admin."),
        h("button", { id: "demo-sign-in", onclick: async () => {
          const res = await fetch("/local/demo-session");
          if (!res.ok) { error.textContent = "demo sign-in is not available"; return; }
          signIn((await res.json()).token); location.hash = "#/"; route();
        } }, "Demo sign-in"))
    : null;
  const oidc = state.config.oidc
    ? h("div", { class: "card" }, h("p", {}, "Sign in with your organisation's identity provider."),
        h("button", { id: "oidc-sign-in", onclick: () => oidcStart().catch((e) => { error.textContent = e.message; }) }, "Sign in with your identity provider"))
    : null;
  render("Sign in", oidc, demo, form);
}

async function projectsPage() {
  await loadProjects();
  if (state.projects.length === 1) { location.hash = `#/p/${state.projects[0].project}`; return; }
  render("Projects", state.projects.length ? h("ul", {}, state.projects.map((p) =>
    h("li", {}, h("a", { href: `#/p/${p.project}` }, p.name), h("span", { class: "muted" }, ` (${p.project}, ${p.your_role || "org admin"})`))))
    : h("p", {}, "You have no project yet."));
}

const FILTERS = ["state", "model_name", "model_version", "decision", "created_by", "created_from", "created_to"];

async function jobsPage(project, query) {
  const token = query.get("after") || "";
  const params = new URLSearchParams({ limit: "20" });
  const filters = new URLSearchParams();
  for (const name of FILTERS) if (query.get(name)) { params.set(name, query.get(name)); filters.set(name, query.get(name)); }
  if (token) params.set("next_token", token);
  const data = await api("GET", `${projectPath(project)}/jobs?${params}`);
  const here = `#/p/${project}`;
  const select = (id, label, options) => h("div", { class: "field" }, h("label", { for: `filter-${id}` }, label),
    h("select", { id: `filter-${id}`, name: id }, h("option", { value: "" }, "any"),
      ...options.map((o) => h("option", { value: o, selected: o === (query.get(id) || "") }, o))));
  const text = (id, label, type = "text") => h("div", { class: "field" }, h("label", { for: `filter-${id}` }, label),
    h("input", { id: `filter-${id}`, name: id, type, value: query.get(id) || "", autocomplete: "off" }));
  const form = h("form", { class: "filters", id: "job-filters", onsubmit: (ev) => {
      ev.preventDefault();
      const chosen = new URLSearchParams();
      for (const name of FILTERS) { const v = form.elements[name].value.trim(); if (v) chosen.set(name, v); }
      location.hash = `${here}${chosen.toString() ? `?${chosen}` : ""}`;
    } },
    h("div", { class: "row" },
      select("state", "State", ["CREATED", "QUEUED", "RUNNING", ...TERMINAL]),
      select("decision", "Decision", ["GO", "STOP", "INCONCLUSIVE"]),
      text("model_name", "Model name"), text("model_version", "Model version"),
      text("created_by", "Created by (user id)"), text("created_from", "Created from", "date"), text("created_to", "Created to", "date")),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "apply-filters" }, "Filter"),
      filters.toString() ? h("a", { href: here, id: "clear-filters" }, "Clear filters") : null));
  const rows = data.jobs.map((job) => h("tr", { "data-job": job.job },
    h("td", { "data-label": "Job" }, h("a", { href: `#/p/${project}/jobs/${job.job}` }, job.input_name), h("br"), h("small", { class: "muted" }, job.job)),
    h("td", { "data-label": "State" }, stateEl(job)),
    h("td", { "data-label": "Progress" }, progressEl(job)),
    h("td", { "data-label": "Rows" }, String(job.progress?.rows_total || job.expected_rows || 0)),
    h("td", { "data-label": "Model" }, model(job)),
    h("td", { "data-label": "Decision" }, decisionEl(job)),
    h("td", { "data-label": "Created" }, when(job.created_at), h("br"), h("small", { class: "muted created-by" }, creator(job)))));
  const shownFrom = Number(query.get("from") || 1);
  const next = new URLSearchParams(filters);
  if (data.next_token) { next.set("after", data.next_token); next.set("from", String(shownFrom + data.jobs.length)); }
  render(`Jobs · ${project}`,
    h("div", { class: "actions" },
      canRun(project) ? h("a", { class: "button", id: "new-audit", href: `#/p/${project}/new` }, "New audit") : null),
    h("details", { id: "filters", open: filters.toString() ? true : null }, h("summary", {}, "Filters"), form),
    data.jobs.length
      ? h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "jobs" }, h("table", { class: "jobs" },
          h("thead", {}, h("tr", {}, ["Job", "State", "Progress", "Rows", "Model", "Decision", "Created"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, rows)))
      : h("p", { id: "no-jobs" }, filters.toString() ? "No job matches these filters." : "No jobs yet."),
    h("div", { class: "actions" },
      data.total ? h("span", { class: "muted", id: "page-count" }, `jobs ${data.jobs.length ? shownFrom : 0}–${shownFrom + data.jobs.length - 1} of ${data.total}`) : null,
      token ? h("a", { href: `${here}${filters.toString() ? `?${filters}` : ""}` }, "First page") : null,
      data.next_token ? h("a", { id: "next-page", href: `${here}?${next}` }, "Older jobs") : null));
  if (data.jobs.some((j) => !TERMINAL.has(j.state) && j.state !== "CREATED")) refreshSoon(2000);
}

function fieldError(name) { return h("p", { class: "error", id: `${name}-error`, role: "alert" }); }

async function checkInput(file, idColumn, smilesColumn) {
  // Size and header are checked here, before anything is uploaded; the rows counted become expected_rows.
  if (!EXTENSIONS.some((ext) => file.name.toLowerCase().endsWith(ext))) throw new Error(`the file must be one of ${EXTENSIONS.join(", ")}`);
  if (!/^[A-Za-z0-9._-]+$/.test(file.name)) throw new Error("the file name may hold letters, digits, dots, dashes and underscores only");
  if (file.size === 0) throw new Error("the file is empty");
  if (file.size > MAX_INPUT_BYTES) throw new Error(`the file is ${(file.size / 1048576).toFixed(1)} MB; the limit here is ${MAX_INPUT_BYTES / 1048576} MB`);
  const text = await file.text();
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const lower = file.name.toLowerCase();
  if (lower.endsWith(".sdf")) {
    const n = (text.match(/^\$\$\$\$/gm) || []).length;
    if (!n) throw new Error("no $$$$ record separator: not an SDF file");
    return n;
  }
  if (lower.endsWith(".smi")) return lines.length;
  const sep = lower.endsWith(".tsv") ? "\t" : ",";
  const header = lines[0].split(sep).map((c) => c.trim().replace(/^"|"$/g, ""));
  const missing = [idColumn, smilesColumn].filter((c) => !header.includes(c));
  if (missing.length) throw new Error(`the header has no ${missing.map((c) => `"${c}"`).join(" or ")} column (it has: ${header.join(", ")})`);
  if (lines.length < 2) throw new Error("the file has a header but no molecules");
  return lines.length - 1;
}

async function upload(instruction, file) {
  const res = await fetch(instruction.url, { method: instruction.method, headers: instruction.headers, body: file });
  await res.arrayBuffer(); // read to the end, so the exchange completes rather than being dropped unread
  if (!res.ok) throw new Error(`upload of ${file.name} failed: HTTP ${res.status}`);
}

async function newAuditPage(project) {
  if (!canRun(project)) { render("New audit", h("p", {}, "Your role in this project cannot run audits.")); return; }
  const inputErr = fieldError("input"), scoresErr = fieldError("scores"), formErr = fieldError("form");
  const input = h("input", { id: "input-file", type: "file", accept: EXTENSIONS.join(","), required: true, "aria-describedby": "input-error" });
  const drop = h("div", { class: "drop", id: "drop" }, h("p", {}, h("label", { for: "input-file" }, "Molecules file (.csv, .tsv, .smi, .sdf; at most 50 MB)")), h("p", { class: "muted" }, "Drop it here, or choose it:"), input);
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => { ev.preventDefault(); drop.classList.remove("over"); input.files = ev.dataTransfer.files; input.dispatchEvent(new Event("change")); });
  const rowsNote = h("p", { class: "muted", id: "rows-note" });
  const num = (id, label, value, attrs = {}) => h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, type: "number", value, ...attrs }));
  const advanced = h("details", { id: "advanced" }, h("summary", {}, "Advanced parameters"),
    num("k_decoys", "Decoys per molecule", 20, { min: 1, max: 1000 }),
    num("seed", "Seed", 0, { min: 0 }),
    h("div", { class: "field" }, h("label", { for: "decoy_descriptors" }, "Decoy descriptors"),
      h("select", { id: "decoy_descriptors" }, h("option", { value: "full" }, "full"), h("option", { value: "fast" }, "fast"))),
    h("div", { class: "field" }, h("label", { for: "id_column" }, "ID column"), h("input", { id: "id_column", value: "id" })),
    h("div", { class: "field" }, h("label", { for: "smiles_column" }, "SMILES column"), h("input", { id: "smiles_column", value: "smiles" })),
    h("div", { class: "field" }, h("label", {}, h("input", { id: "hard_mode", type: "checkbox" }), " Hard mode (close decoys)")),
    h("div", { class: "field" }, h("label", {}, h("input", { id: "decoy_cache", type: "checkbox" }), " Reuse decoys from the org's cache (faster re-audits; one S3 request per molecule)")));
  const value = (id) => document.getElementById(id).value.trim();
  let rows = 0;
  input.addEventListener("change", async () => {
    inputErr.textContent = ""; rowsNote.textContent = ""; rows = 0;
    const file = input.files[0];
    if (!file) return;
    try { rows = await checkInput(file, value("id_column") || "id", value("smiles_column") || "smiles"); rowsNote.textContent = `${rows} molecules in ${file.name}`; }
    catch (e) { inputErr.textContent = e.message; }
  });
  const scores = h("input", { id: "scores-file", type: "file", accept: ".csv,.tsv", "aria-describedby": "scores-error" });
  const scorer = h("select", { id: "scorer" }, SCORERS.map((s) => h("option", { value: s }, s)));
  const submit = h("button", { type: "submit", id: "submit" }, "Run audit");
  const form = h("form", { id: "new-audit-form", onsubmit: async (ev) => {
    ev.preventDefault();
    for (const e of [inputErr, scoresErr, formErr]) e.textContent = "";
    const file = input.files[0];
    if (!file) { inputErr.textContent = "choose a molecules file"; return; }
    if (!rows) { try { rows = await checkInput(file, value("id_column") || "id", value("smiles_column") || "smiles"); } catch (e) { inputErr.textContent = e.message; return; } }
    const parameters = { scorer: scorer.value, k_decoys: Number(value("k_decoys")), seed: Number(value("seed")),
      decoy_descriptors: value("decoy_descriptors"), hard_mode: document.getElementById("hard_mode").checked,
      decoy_cache: document.getElementById("decoy_cache").checked,
      id_column: value("id_column") || "id", smiles_column: value("smiles_column") || "smiles" };
    if (value("model_name")) parameters.model_name = value("model_name");
    if (value("model_version")) parameters.model_version = value("model_version");
    const scoresFile = scores.files[0];
    const body = { input_name: file.name, expected_rows: rows, parameters };
    if (scoresFile) body.scores_name = scoresFile.name;
    submit.disabled = true; submit.textContent = "Uploading…";
    try {
      const created = await api("POST", `${projectPath(project)}/jobs`, body);
      await upload(created.uploads.input, file);
      if (scoresFile) await upload(created.uploads.scores, scoresFile);
      await api("POST", `${jobPath(project, created.job.job)}/start`);
      location.hash = `#/p/${project}/jobs/${created.job.job}`;
    } catch (e) {
      // The API's errors go next to the field they name (details[].loc), the rest under the form.
      const where = (e.details || []).map((d) => (d.loc || []).join("."));
      const target = where.some((l) => l.includes("scores")) ? scoresErr : where.some((l) => l.includes("input") || l.includes("expected_rows")) || ["input_missing", "input_rejected"].includes(e.code) ? inputErr : formErr;
      target.textContent = `${e.code ? `${e.code}: ` : ""}${e.message}${(e.details || []).map((d) => ` — ${(d.loc || []).join(".")}: ${d.msg || JSON.stringify(d)}`).join("")}`;
      submit.disabled = false; submit.textContent = "Run audit";
    }
  } },
    drop, inputErr, rowsNote,
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "model_name" }, "Model name"), h("input", { id: "model_name", maxlength: 200 })),
      h("div", { class: "field" }, h("label", { for: "model_version" }, "Model version"), h("input", { id: "model_version", maxlength: 200 }))),
    h("div", { class: "field" }, h("label", { for: "scorer" }, "Built-in scorer"), scorer),
    h("div", { class: "field" }, h("label", { for: "scores-file" }, "…or your model's scores file: a job's decoys export with a score column added (replaces the scorer)"), scores, scoresErr),
    advanced, formErr, h("div", { class: "actions" }, submit));
  render(`New audit · ${project}`, form, await decoysOnlySection(project));
}

async function jobPage(project, jobId) {
  const job = await api("GET", jobPath(project, jobId));
  const act = async (label, fn) => { try { await fn(); toast(label); } catch (e) { toast(`${e.code || "error"}: ${e.message}`); } route(); };
  const runner = canRun(project);
  const buttons = [
    runner && !TERMINAL.has(job.state) ? h("button", { class: "danger", id: "cancel", onclick: () => act("cancelled", () => api("POST", `${jobPath(project, jobId)}/cancel`)) }, "Cancel") : null,
    runner && RETRYABLE.has(job.state) ? h("button", { id: "retry", onclick: () => act("retried", () => api("POST", `${jobPath(project, jobId)}/retry`)) }, "Retry") : null,
    canDelete(project) && TERMINAL.has(job.state) ? h("button", { class: "danger", id: "delete", onclick: async () => {
      if (!confirm(`Delete job ${jobId} and all its files?`)) return;
      clearTimeout(state.timer); // no refresh of a job that is about to be gone
      try { await api("DELETE", jobPath(project, jobId)); toast("deleted"); location.hash = `#/p/${project}`; } catch (e) { toast(e.message); }
    } }, "Delete") : null,
  ];
  const p = job.parameters || {};
  const facts = h("dl", { class: "facts" },
    h("dt", {}, "State"), h("dd", { id: "job-state" }, stateEl(job)),
    h("dt", {}, "Progress"), h("dd", { id: "job-progress" }, progressEl(job)),
    h("dt", {}, "Decision"), h("dd", { id: "job-decision" }, decisionEl(job), job.decision?.sentence ? h("div", { class: "muted" }, job.decision.sentence) : null),
    h("dt", {}, "Model"), h("dd", {}, model(job)),
    h("dt", {}, "Input"), h("dd", {}, job.input_name, job.scores_name ? ` + scores ${job.scores_name}` : ` (scorer ${p.scorer || "qed"})`),
    h("dt", {}, "Created"), h("dd", { id: "job-created" }, when(job.created_at), creator(job) ? ` by ${creator(job)}` : ""),
    job.error ? h("dt", {}, "Error") : null, job.error ? h("dd", { class: "error" }, `${job.error.code || ""} ${job.error.message || ""}`) : null);
  const member = projectRole(project) !== null;
  const children = [h("p", {}, member ? h("a", { href: `#/p/${project}` }, "← Jobs") : h("a", { href: "#/shared" }, "← Shared with me")),
    facts, h("div", { class: "actions" }, buttons)];
  if (DONE.has(job.state)) children.push(h("h2", {}, "Verification"), verifyBadge(project, job));
  if (runner) children.push(...shareSection(project, job));
  if (DONE.has(job.state) && member && state.externalSharing) children.push(...externalLinkSection(project, job));
  if (DONE.has(job.state)) {
    const frame = h("section", { class: "report hidden", id: "report", "aria-label": "Audit report" });
    children.push(
      h("h2", {}, "Downloads"),
      h("div", { class: "actions", id: "downloads" }, ARTIFACTS.map((a) => h("button", { class: "secondary", "data-artifact": a, onclick: async () => {
        const { url } = await api("GET", `${jobPath(project, jobId)}/download?artifact=${a}`);
        const link = h("a", { href: url, download: "" }); document.body.append(link); link.click(); link.remove();
      } }, a))),
      h("h2", {}, "Report"),
      h("button", { id: "open-report", class: "secondary", onclick: async (ev) => {
        ev.target.disabled = true;
        const { url } = await api("GET", `${jobPath(project, jobId)}/download?artifact=report`);
        const res = await fetch(url);
        showReport(frame, await res.text());
        frame.classList.remove("hidden");
        ev.target.remove();
      } }, "Show the report here"), frame);
  }
  render(`Job ${jobId}`, ...children);
  if (!TERMINAL.has(job.state) && job.state !== "CREATED") refreshSoon(1000);
}

function verifyBadge(project, job) {
  // Checked here, in the browser: the zip's sha256 against the job record, every member against the signed
  // manifest and checksums.sha256, and the manifest's signature against the org's published public key.
  const last = state.verified.get(job.job);
  const badge = h("p", { id: "verify-badge", class: last ? last.className : "badge", role: "status" }, last ? last.text : "Not verified yet.");
  const button = h("button", { id: "verify", class: "secondary", onclick: async () => {
    button.disabled = true; badge.className = "badge"; badge.textContent = "Verifying…";
    try {
      const pack = await fetch((await api("GET", `${jobPath(project, job.job)}/download?artifact=pack`)).url);
      const key = await fetch((await api("GET", `${jobPath(project, job.job)}/download?artifact=public_key`)).url);
      if (!pack.ok || !key.ok) throw new Error(`download failed: HTTP ${pack.ok ? key.status : pack.status}`);
      const checked = await verifyPack(await pack.arrayBuffer(), await key.text(), job.zip_sha256);
      badge.className = "badge badge-ok";
      badge.textContent = `✓ Verified: signature valid with the org's published key (ECDSA P-256); ${checked.manifestFiles} members match the signed manifest, ${checked.checksums} match checksums.sha256; zip sha256 ${checked.zipSha256.slice(0, 12)}… is the one the service recorded.`;
    } catch (e) {
      badge.className = "badge badge-bad";
      badge.textContent = `✗ Not verified: ${e.message}`;
    }
    state.verified.set(job.job, { className: badge.className, text: badge.textContent });
    button.disabled = false;
  } }, "Verify the pack");
  return h("div", { class: "verify" }, badge, button);
}

function shareSection(project, job) {
  // Show the job to another member of the org: they see it under "Shared with me" without a project role.
  const error = fieldError("share");
  const user = h("input", { id: "share-user", required: true, autocomplete: "off", "aria-describedby": "share-error" });
  const list = (job.shared_with || []).map((u) => h("li", {}, u, " ",
    h("button", { class: "secondary", "data-unshare": u, onclick: async () => {
      try { await api("DELETE", `${jobPath(project, job.job)}/shares/${encodeURIComponent(u)}`); toast(`no longer shared with ${u}`); } catch (e) { toast(e.message); }
      route();
    } }, `Stop sharing with ${u}`)));
  const form = h("form", { class: "row", id: "share-form", onsubmit: async (ev) => {
    ev.preventDefault(); error.textContent = "";
    try { await api("POST", `${jobPath(project, job.job)}/shares`, { user: user.value.trim() }); toast(`shared with ${user.value.trim()}`); route(); }
    catch (e) { error.textContent = `${e.code || "error"}: ${e.message}`; }
  } },
    h("div", { class: "field" }, h("label", { for: "share-user" }, "Member's user id"), user),
    h("div", { class: "field button-field" }, h("span", { "aria-hidden": "true" }, "\u00a0"), h("button", { type: "submit", id: "share-submit" }, "Share")));
  return [h("h2", {}, "Share within the org"),
    list.length ? h("ul", { id: "shared-with" }, list) : h("p", { class: "muted", id: "shared-with-none" }, "Shared with nobody yet."),
    form, error];
}

function externalLinkSection(project, job) {
  // Only where an org admin turned external sharing on; every link is audited with its recipient.
  const error = fieldError("link");
  const recipient = h("input", { id: "link-recipient", required: true, autocomplete: "off", "aria-describedby": "link-error" });
  const hours = h("select", { id: "link-hours" }, [1, 4, 12].map((n) => h("option", { value: n * 3600 }, `${n} h`)));
  const out = h("input", { id: "link-url", readonly: true, class: "hidden", "aria-label": "link for the recipient" });
  const form = h("form", { class: "row", id: "link-form", onsubmit: async (ev) => {
    ev.preventDefault(); error.textContent = "";
    try {
      const link = await api("POST", `${jobPath(project, job.job)}/share`, { recipient: recipient.value.trim(), artifact: "pack", expires_in: Number(hours.value) });
      out.value = link.url; out.classList.remove("hidden"); out.select();
    } catch (e) { error.textContent = `${e.code || "error"}: ${e.message}`; }
  } },
    h("div", { class: "field" }, h("label", { for: "link-recipient" }, "Who the link is for"), recipient),
    h("div", { class: "field" }, h("label", { for: "link-hours" }, "Valid for"), hours),
    h("div", { class: "field button-field" }, h("span", { "aria-hidden": "true" }, "\u00a0"), h("button", { type: "submit", id: "link-submit" }, "Make a link")));
  return [h("h2", {}, "Link for someone outside the org"), h("p", { class: "muted" }, "Downloads the pack until it expires; the recipient is kept in the audit log."), form, error, out];
}

async function sharedPage() {
  const { jobs } = await api("GET", `/v1/orgs/${encodeURIComponent(state.org)}/shared-jobs`);
  render("Shared with me", jobs.length
    ? table("shared", ["Job", "Project", "State", "Decision", "Shared by"], jobs.map((s) => [
        h("a", { href: `#/p/${s.job.project}/jobs/${s.job.job}` }, s.job.input_name), s.job.project, stateEl(s.job), decisionEl(s.job),
        `${s.granted_by}, ${when(s.granted_at)}`]))
    : h("p", { id: "no-shared" }, "Nobody has shared a job with you yet."));
}

function csvRows(text) {
  // RFC 4180 rows (quoted fields may hold commas, quotes and newlines): enough for the pack's own CSV.
  const rows = []; let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n") { row.push(field); rows.push(row); row = []; field = ""; }
    else if (c !== "\r") field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows;
}
const csvCell = (v) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

async function decoysOnlySection(project) {
  // For scores-only customers: a finished job's decoys without scores, to score with their own model and send
  // back as the scores file above (same input and parameters give the same decoys).
  const { jobs } = await api("GET", `${projectPath(project)}/jobs?limit=50`);
  const done = jobs.filter((j) => DONE.has(j.state));
  const note = h("p", { class: "muted", id: "decoys-note", role: "status" });
  const heading = h("h2", { id: "decoys-only" }, "Decoys only, for your own model");
  const how = h("p", { class: "muted" }, "The decoys table of a finished job, without a score column: add your model's score column and upload it above as the scores file, with the same molecules file and parameters. Without any job yet, `hetero2 decoys INPUT --out decoys.csv` makes the same table on your machine.");
  if (!done.length) return h("section", { "aria-labelledby": "decoys-only" }, heading, how, h("p", { id: "no-decoys-job" }, "No finished job in this project yet."));
  const pick = h("select", { id: "decoys-job" }, done.map((j) => h("option", { value: j.job }, `${j.input_name} · ${j.job} · ${when(j.created_at)}`)));
  const button = h("button", { id: "decoys-download", class: "secondary", type: "button", onclick: async () => {
    note.textContent = "";
    try { note.textContent = `${await decoysOnly(project, pick.value)} decoy rows written, no score column.`; } catch (e) { note.textContent = e.message; }
  } }, "Download decoys without scores");
  return h("section", { "aria-labelledby": "decoys-only" }, heading, how,
    h("div", { class: "field" }, h("label", { for: "decoys-job" }, "Finished job"), pick), h("div", { class: "actions" }, button), note);
}

async function decoysOnly(project, jobId) {
  // The decoys-only export: the job's decoys.csv without its score columns, the table a customer's model scores.
  const { url } = await api("GET", `${jobPath(project, jobId)}/download?artifact=decoys`);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`download failed: HTTP ${res.status}`);
  const [header, ...rows] = csvRows(await res.text());
  const index = DECOY_COLUMNS.map((c) => header.indexOf(c));
  if (index.includes(-1)) throw new Error("decoys.csv lacks one of the columns molecule_id, role, hash, smiles");
  const text = [DECOY_COLUMNS, ...rows.map((r) => index.map((i) => r[i]))].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
  const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `${jobId}-decoys-to-score.csv` });
  document.body.append(link); link.click(); link.remove();
  return rows.length;
}

function showReport(host, html) {
  // The report inline, under this page's strict CSP: parsed inert (DOMParser runs nothing), scripts and on*
  // handlers dropped, its <style> blocks applied as constructed stylesheets of a shadow root (CSSOM, which
  // style-src does not govern) and its style attributes re-applied through element.style. Its CSS stays inside
  // the shadow root, the app's stays out.
  // Style attributes and elements are renamed before parsing: the parser would otherwise meet them under this
  // page's CSP (and report each as a violation); they are re-applied through CSSOM below.
  const inert = html
    .replace(/(<[a-zA-Z][^<>]*?\s)style=(["'])/g, "$1data-report-style=$2")
    .replace(/<style\b[^>]*>/gi, "<textarea data-report-css>")
    .replace(/<\/style>/gi, "</textarea>");
  const doc = new DOMParser().parseFromString(inert, "text/html");
  const sheets = [];
  for (const el of doc.querySelectorAll("textarea[data-report-css]")) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(el.textContent.replace(/(^|[\s,}])(html|body)(?=[\s,{.:#[])/g, "$1:host"));
    sheets.push(sheet);
    el.remove();
  }
  for (const el of doc.querySelectorAll("script, iframe, object, embed, link, meta, base")) el.remove();
  const inline = [];
  for (const el of doc.body.querySelectorAll("*")) {
    for (const attr of [...el.attributes]) {
      if (attr.name.startsWith("on") || /^\s*javascript:/i.test(attr.value)) el.removeAttribute(attr.name);
    }
    if (el.hasAttribute("data-report-style")) { inline.push([el, el.getAttribute("data-report-style")]); el.removeAttribute("data-report-style"); }
  }
  const root = host.shadowRoot || host.attachShadow({ mode: "open" });
  root.adoptedStyleSheets = sheets;
  root.replaceChildren(...[...doc.body.childNodes].map((n) => document.adoptNode(n)));
  for (const [el, css] of inline) el.style.cssText = css;
}

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f5f8b", "#b5541a", "#1a7f37", "#7a3e9d", "#8a5a00", "#0b7285"];
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

async function historyPage(project) {
  // PASS-rate and decision of each succeeded job over time, one colour per model version: is the next model
  // better than the last one at reading structure? The table below holds the same numbers (screen readers).
  const { jobs } = await api("GET", `${projectPath(project)}/jobs?limit=200`);
  const done = jobs.filter((j) => DONE.has(j.state)).slice(0, 60).reverse();
  const results = [];
  for (const j of done) results.push(await api("GET", `${jobPath(project, j.job)}/results`).catch(() => null));
  const points = done.map((j, i) => ({ job: j, at: new Date(j.created_at), model: model(j),
    rate: results[i] ? results[i].pass_rate : null, outcome: (results[i]?.decision?.outcome) || j.decision?.outcome || "—" }))
    .filter((p) => p.rate !== null && p.rate !== undefined);
  if (!points.length) { render(`History · ${project}`, h("p", { id: "no-history" }, "No succeeded job with a PASS-rate yet.")); return; }
  const models = [...new Set(points.map((p) => p.model))];
  const W = 720, H = 300, L = 48, R = 16, T = 16, B = 40;
  const t0 = Math.min(...points.map((p) => p.at)), t1 = Math.max(...points.map((p) => p.at));
  const x = (d) => L + (t1 === t0 ? (W - L - R) / 2 : ((d - t0) / (t1 - t0)) * (W - L - R));
  const y = (r) => T + (1 - r) * (H - T - B);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-labelledby": "history-title" },
    svg("title", { id: "history-title" }, `PASS-rate of ${points.length} jobs over time by model version`));
  for (const r of [0, 0.25, 0.5, 0.75, 1]) {
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(r), y2: y(r), stroke: "#d0d7de" }),
      svg("text", { x: L - 6, y: y(r) + 4, "text-anchor": "end", "font-size": 11, fill: "#57606a" }, r.toFixed(2)));
  }
  chart.append(svg("text", { x: L, y: H - 8, "font-size": 11, fill: "#57606a" }, new Date(t0).toLocaleDateString()),
    svg("text", { x: W - R, y: H - 8, "text-anchor": "end", "font-size": 11, fill: "#57606a" }, new Date(t1).toLocaleDateString()));
  models.forEach((m, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const mine = points.filter((p) => p.model === m);
    if (mine.length > 1) chart.append(svg("polyline", { points: mine.map((p) => `${x(p.at)},${y(p.rate)}`).join(" "), fill: "none", stroke: colour, "stroke-width": 1.5 }));
    for (const p of mine) {
      const mark = p.outcome === "STOP"
        ? svg("rect", { x: x(p.at) - 5, y: y(p.rate) - 5, width: 10, height: 10, fill: colour })
        : svg("circle", { cx: x(p.at), cy: y(p.rate), r: 5.5, fill: p.outcome === "GO" ? colour : "#fff", stroke: colour, "stroke-width": 2 });
      mark.setAttribute("data-job", p.job.job);
      mark.append(svg("title", {}, `${p.model}: PASS-rate ${p.rate.toFixed(3)}, ${p.outcome} (${p.job.job})`));
      chart.append(mark);
    }
  });
  const legend = h("ul", { class: "legend" }, models.map((m, i) => h("li", {}, h("span", { class: `swatch swatch-${i % PALETTE.length}`, "aria-hidden": "true" }), m)),
    h("li", { class: "muted" }, "filled circle GO · square STOP · hollow circle INCONCLUSIVE"));
  render(`History · ${project}`, h("div", { class: "chart-wrap" }, chart), legend,
    table("history", ["Created", "Job", "Model", "PASS-rate", "Decision"], [...points].reverse().map((p) =>
      [when(p.job.created_at), h("a", { href: `#/p/${project}/jobs/${p.job.job}` }, p.job.job), p.model, p.rate.toFixed(3), p.outcome])));
}

function table(id, columns, rows) {
  // Focusable and named: a table wider than the screen scrolls, and a keyboard must be able to scroll it.
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": id }, h("table", { id },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((cell) => h("td", {}, cell)))))));
}

async function membersPage(project) {
  if (!canDelete(project)) { render("Members", h("p", {}, "Only project admins manage members.")); return; }
  const { members } = await api("GET", `${projectPath(project)}/members`);
  const error = fieldError("member");
  const user = h("input", { id: "member-user", required: true, autocomplete: "off" });
  const role = h("select", { id: "member-role" }, ["view", "run", "admin"].map((r) => h("option", { value: r }, r)));
  const form = h("form", { class: "row", onsubmit: async (ev) => {
    ev.preventDefault(); error.textContent = "";
    try { await api("POST", `${projectPath(project)}/members`, { user: user.value.trim(), role: role.value }); toast("member added"); route(); }
    catch (e) { error.textContent = `${e.code || "error"}: ${e.message}`; }
  } },
    h("div", { class: "field" }, h("label", { for: "member-user" }, "User id"), user),
    h("div", { class: "field" }, h("label", { for: "member-role" }, "Role"), role),
    h("div", { class: "field" }, h("span", { "aria-hidden": "true" }, "\u00a0"), h("button", { type: "submit", id: "add-member" }, "Add member")));
  render(`Members · ${project}`,
    table("members", ["User", "Role", ""], members.map((m) => [m.user, m.role,
      m.user === state.user ? "" : h("button", { class: "danger", "data-remove": m.user, onclick: async () => {
        try { await api("DELETE", `${projectPath(project)}/members/${encodeURIComponent(m.user)}`); toast("removed"); } catch (e) { toast(e.message); }
        route();
      } }, "Remove")])),
    h("h2", {}, "Add a member"), form, error);
}

async function adminPage(query) {
  if (state.orgRole !== "org_admin") { render("Admin", h("p", {}, "Only org admins see usage and the audit log.")); return; }
  const org = `/v1/orgs/${encodeURIComponent(state.org)}`;
  const after = query.get("after");
  const usage = await api("GET", `${org}/usage`);
  const audit = await api("GET", `${org}/audit?limit=50${after ? `&after=${encodeURIComponent(after)}` : ""}`);
  const keys = [...new Set(usage.projects.flatMap((p) => Object.keys(p)))];
  const filter = h("input", { id: "audit-filter", type: "search", placeholder: "action, actor, target or outcome" });
  const rows = audit.events.map((e) => [String(e.seq), when(e.at), e.actor, e.action, e.target, e.outcome]);
  const log = table("audit", ["#", "At", "Actor", "Action", "Target", "Outcome"], rows);
  filter.addEventListener("input", () => {
    const needle = filter.value.toLowerCase();
    for (const tr of log.querySelectorAll("tbody tr")) tr.classList.toggle("hidden", needle !== "" && !tr.textContent.toLowerCase().includes(needle));
  });
  render(`Admin · ${state.org}`,
    h("h2", {}, `Usage in ${usage.month}`),
    keys.length ? table("usage", keys, usage.projects.map((p) => keys.map((k) => String(p[k] ?? "")))) : h("p", {}, "Nothing metered this month."),
    h("p", { id: "usage-total", class: "muted" }, `Total: ${Object.entries(usage.total).map(([k, v]) => `${k} ${v}`).join(", ") || "nothing"}`),
    h("h2", {}, "Audit log (oldest first)"),
    h("div", { class: "field" }, h("label", { for: "audit-filter" }, "Filter"), filter), log,
    h("div", { class: "actions" }, audit.next_token ? h("a", { id: "audit-next", href: `#/admin?after=${encodeURIComponent(audit.next_token)}` }, "Newer events") : null));
}

// ---------- routing ----------
function refreshSoon(ms) { clearTimeout(state.timer); const at = location.hash; state.timer = setTimeout(() => { if (location.hash === at) route(true); }, ms); }

async function loadProjects() {
  // One request at a time, here and below: the local server runs the API's resolver, which is not safe for
  // concurrent requests in one process (a Lambda instance gets one event at a time); see docs/web.md.
  const org = await api("GET", `/v1/orgs/${encodeURIComponent(state.org)}`);
  const projects = await api("GET", `/v1/orgs/${encodeURIComponent(state.org)}/projects`);
  state.orgRole = org.your_role; state.externalSharing = org.external_sharing === true; state.projects = projects.projects;
}

function navigation(project) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  const here = location.hash.split("?")[0];
  const link = (href, text) => h("a", { href, "aria-current": here === href ? "page" : null }, text);
  const items = state.token && project && projectRole(project) !== null
    ? [link(`#/p/${project}`, "Jobs"), link(`#/p/${project}/history`, "History"), canRun(project) ? link(`#/p/${project}/new`, "New audit") : null,
       canDelete(project) ? link(`#/p/${project}/members`, "Members") : null, link("#/projects", "Projects")]
    : state.token ? [link("#/projects", "Projects")] : [];
  if (state.token) items.push(link("#/shared", "Shared with me"));
  if (state.token && state.orgRole === "org_admin") items.push(link("#/admin", "Admin"));
  nav.replaceChildren(...items.filter(Boolean));
  who.replaceChildren(...(state.token ? [h("span", { id: "user" }, `${state.user} · ${state.org}`), h("button", { class: "secondary", id: "sign-out", onclick: signOut }, "Sign out")] : []));
}

async function route(refresh = false) {
  clearTimeout(state.timer);
  const [path, qs] = location.hash.replace(/^#/, "").split("?");
  const query = new URLSearchParams(qs || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (!state.token) { navigation(null); signInPage(); return; }
    if (!state.projects.length || !refresh) await loadProjects();
    const project = parts[0] === "p" ? parts[1] : null;
    navigation(project);
    if (parts[0] === "admin") await adminPage(query);
    else if (parts[0] === "shared") await sharedPage();
    else if (!project) await projectsPage();
    else if (parts[2] === "members") await membersPage(project);
    else if (parts[2] === "history") await historyPage(project);
    else if (parts[2] === "new") await newAuditPage(project);
    else if (parts[2] === "jobs" && parts[3]) await jobPage(project, parts[3]);
    else await jobsPage(project, query);
    if (!refresh) document.getElementById("main").focus();
  } catch (e) {
    if (e.status === 401) return;
    render("Something went wrong", h("p", { class: "error", role: "alert" }, `${e.code || "error"}: ${e.message}`));
  }
}

async function main() {
  state.config = await (await fetch("config.json")).json();
  const saved = sessionStorage.getItem("hetero2.token");
  if (saved) { try { signIn(saved); } catch { sessionStorage.removeItem("hetero2.token"); } }
  if (state.config.oidc) {
    try { await oidcFinish(); } catch (e) { toast(e.message); }
  }
  window.addEventListener("hashchange", () => route());
  route();
}
main();
