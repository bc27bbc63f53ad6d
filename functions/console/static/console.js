// The payments console: a client of the API like any other. The API key lives in this tab's session
// storage only; every answer the API refuses is shown in its own words. No data is kept here.
"use strict";

const WORDS = window.CONSOLE_WORDS;
const KEY = "payments-console-key";
const $ = (selector) => document.querySelector(selector);
const VIEWS = ["login", "orders", "order", "attention", "today", "reports"];
const GOOD = new Set(["paid", "refunded", "partially_refunded", "succeeded"]);
const BAD = new Set(["failed", "cancelled", "expired", "charged_back"]);
const STATUS_WORDS = {
  created: "Created", pending: "Awaiting payment", unknown: "Checking with the provider", paid: "Paid",
  failed: "Failed", cancelled: "Cancelled", expired: "Expired", refunded: "Refunded",
  partially_refunded: "Partly refunded", charged_back: "Charged back", succeeded: "Succeeded",
};
let listCursor = null;

// -- the API -------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    const details = (error.details || []).map((detail) => detail.message).join("; ");
    super(error.message ? error.message + (details && details !== error.message ? ` (${details})` : "") : `HTTP ${status}`);
    this.status = status;
    this.field = error.field;
  }
}

async function api(method, path, body) {
  const headers = { "x-api-key": sessionStorage.getItem(KEY) || "" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const reply = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const type = reply.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await reply.json() : await reply.text();
  if (!reply.ok) {
    if (reply.status === 403 && data && data.error && data.error.code === "invalid_api_key") {
      sessionStorage.removeItem(KEY);
    }
    throw new ApiError(reply.status, data);
  }
  return data;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  return search.toString();
}

// -- words and numbers ---------------------------------------------------------------------------
function exponent(currency) {
  return WORDS.exponents[currency] ?? 2;
}

function major(amount) {
  const digits = exponent(amount.currency);
  const text = String(Math.abs(amount.value)).padStart(digits + 1, "0");
  const whole = digits ? text.slice(0, -digits) + "." + text.slice(-digits) : text;
  return `${amount.value < 0 ? "-" : ""}${whole} ${amount.currency}`;
}

function minorUnits(text, currency) {
  // "12.5" EUR -> 1250, exactly: digits only, never a float.
  const digits = exponent(currency);
  const match = /^(\d{1,15})(?:[.,](\d+))?$/.exec(text.trim());
  if (!match || (match[2] || "").length > digits) {
    return null;
  }
  return Number(match[1] + (match[2] || "").padEnd(digits, "0"));
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function chip(status) {
  const kind = GOOD.has(status) ? "good" : BAD.has(status) ? "bad" : "wait";
  return el("span", { class: `chip ${kind}`, "data-status": status, text: STATUS_WORDS[status] || status });
}

function flagChip(flag) {
  return el("span", { class: "chip flag", "data-flag": flag, title: WORDS.flags[flag] || "", text: flag.replaceAll("_", " ") });
}

function say(message) {
  $("#alert").textContent = "";
  $("#status").textContent = message;
}

function fail(error) {
  $("#status").textContent = "";
  $("#alert").textContent = error instanceof ApiError ? error.message : `The request failed: ${error.message}`;
}

function clearMessages() {
  $("#alert").textContent = "";
  $("#status").textContent = "";
}

async function busy(button, work) {
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
}

// -- views ---------------------------------------------------------------------------------------
function show(view) {
  for (const name of VIEWS) $(`#${name}`).hidden = name !== view;
  $("#nav").hidden = view === "login";
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function route() {
  clearMessages();
  if (!sessionStorage.getItem(KEY)) {
    show("login");
    $("#api-key").focus();
    return;
  }
  const [view, argument] = decodeURIComponent(location.hash.slice(1)).split("/", 2);
  try {
    if (view === "order" && argument) await showOrder(argument);
    else if (view === "attention") await showAttention();
    else if (view === "today") await showToday();
    else if (view === "reports") showReports();
    else await showOrders();
  } catch (error) {
    fail(error);
    if (!sessionStorage.getItem(KEY)) show("login");
  }
}

// -- orders --------------------------------------------------------------------------------------
function fillSelect(select, values, anyLabel) {
  select.replaceChildren(el("option", { value: "", text: anyLabel }));
  for (const value of values) select.append(el("option", { value, text: STATUS_WORDS[value] || value.replaceAll("_", " ") }));
}

function filterParams() {
  const form = new FormData($("#filters"));
  const params = {};
  for (const name of ["q", "status", "flag", "provider"]) params[name] = (form.get(name) || "").trim();
  const from = form.get("created_from");
  const to = form.get("created_to");
  if (from) params.created_from = new Date(`${from}T00:00:00`).toISOString();
  if (to) params.created_to = new Date(new Date(`${to}T00:00:00`).getTime() + 86399999).toISOString();
  return params;
}

async function showOrders(more = false) {
  show("orders");
  const params = { ...filterParams(), limit: "25", after: more ? listCursor : "" };
  const page = await api("GET", `orders?${query(params)}`);
  const body = $("#order-list tbody");
  if (!more) body.replaceChildren();
  for (const order of page.orders) {
    const link = el("a", { href: `#order/${encodeURIComponent(order.order_id)}`, text: order.order_id });
    const status = el("td", {}, chip(order.status), ...order.flags.map(flagChip));
    body.append(
      el("tr", { "data-order-id": order.order_id },
        el("td", {}, link), status,
        el("td", { class: "money", text: major(order.amount) }),
        el("td", { class: "money", text: major(order.refunded_amount) }),
        el("td", { text: `${order.provider}${order.wallet ? " · " + order.wallet : ""}` }),
        el("td", { text: when(order.created_at) })),
    );
  }
  if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: "6", text: "No orders match." })));
  listCursor = page.next_after;
  $("#more").hidden = !listCursor;
}

// -- an order ------------------------------------------------------------------------------------
function fact(list, term, value) {
  if (value === undefined || value === null || value === "") return;
  list.append(el("dt", { text: term }), el("dd", {}, value));
}

function eventWords(event) {
  const moved = event.to_status ? `${STATUS_WORDS[event.from_status] || event.from_status || "new"} → ${STATUS_WORDS[event.to_status] || event.to_status}` : "";
  const refund = event.refund ? `refund ${event.refund.refund_id} of ${major(event.refund.amount)} ${event.refund.status}` : "";
  const parts = [event.type.replaceAll("_", " "), moved, refund, event.reason || ""].filter(Boolean);
  const by = event.verified ? `verified (${event.source})` : event.source;
  return `${when(event.at)} — ${parts.join("; ")} — ${by}`;
}

async function showOrder(orderId) {
  show("order");
  const order = await api("GET", `orders/${encodeURIComponent(orderId)}`);
  $("#order").dataset.orderId = order.order_id;
  $("#order").dataset.currency = order.amount.currency;
  $("#order-title").replaceChildren(`Order ${order.order_id} `, chip(order.status));
  const facts = $("#order-facts");
  facts.replaceChildren();
  fact(facts, "Amount", major(order.amount));
  fact(facts, "Refunded", el("span", { id: "order-refunded", text: major(order.refunded_amount) }));
  fact(facts, "Refundable", el("span", { id: "order-refundable", text: major(order.refundable_amount) }));
  fact(facts, "Provider", order.provider);
  fact(facts, "Wallet", order.wallet);
  fact(facts, "Provider reference", order.provider_reference);
  fact(facts, "Description", order.description);
  fact(facts, "Created", when(order.created_at));
  fact(facts, "Updated", when(order.updated_at));
  const flags = $("#order-flags");
  flags.replaceChildren(...order.flags.map((flag) => el("p", {}, flagChip(flag), WORDS.flags[flag] || "")));
  $("#refund-currency").textContent = order.amount.currency;
  $("#refund-amount").removeAttribute("aria-invalid");
  const refunds = $("#refunds tbody");
  refunds.replaceChildren();
  for (const refund of order.refunds) {
    refunds.append(el("tr", { "data-refund-id": refund.refund_id, "data-status": refund.status },
      el("td", { text: refund.refund_id }), el("td", {}, chip(refund.status)),
      el("td", { class: "money", text: major(refund.amount) }), el("td", { text: refund.reason || "" }),
      el("td", { text: refund.origin === "merchant" ? "you" : "the provider" }), el("td", { text: when(refund.created_at) })));
  }
  if (!order.refunds.length) refunds.append(el("tr", {}, el("td", { colspan: "6", text: "No refunds." })));
  $("#history").replaceChildren(...order.events.map((event) => el("li", { "data-type": event.type, text: eventWords(event) })));
  await showWebhooks(order.order_id);
}

const DELIVERY_WORDS = { delivered: "Delivered", retrying: "Retrying", dead_lettered: "Dead-lettered", pending: "Pending" };
const DELIVERY_KINDS = { delivered: "good", retrying: "wait", dead_lettered: "bad", pending: "wait" };

function deliveryCell(delivery) {
  const status = delivery.status;
  const cell = el("td", {}, el("span", { class: `chip ${DELIVERY_KINDS[status] || "wait"}`, "data-delivery": status, text: DELIVERY_WORDS[status] || status }));
  if (status === "retrying" && delivery.next_try_at) cell.append(el("span", { class: "when", text: `next try ${when(delivery.next_try_at)}` }));
  if (status === "delivered" && delivery.delivered_at) cell.append(el("span", { class: "when", text: when(delivery.delivered_at) }));
  return cell;
}

async function showWebhooks(orderId) {
  // The order's merchant events, in sequence, each with its latest webhook delivery (one request).
  const listed = await api("GET", `orders/${encodeURIComponent(orderId)}/events`);
  const rows = $("#webhooks tbody");
  rows.replaceChildren();
  for (const event of listed.events) {
    const label = `Redeliver ${event.type} (sequence ${event.sequence})`;
    const again = el("button", { type: "button", class: "quiet", "data-event-id": event.id, "aria-label": label, text: "Redeliver" });
    again.addEventListener("click", () => redeliver(again, event, orderId));
    rows.append(el("tr", { "data-event-id": event.id, "data-type": event.type, "data-delivery": event.delivery.status },
      el("td", { text: event.type }), el("td", { text: String(event.sequence) }), el("td", { text: when(event.created_at) }),
      deliveryCell(event.delivery), el("td", { text: String(event.delivery.attempts) }),
      el("td", { text: event.delivery.last_error || "" }), el("td", {}, again)));
  }
  if (!rows.children.length) rows.append(el("tr", {}, el("td", { colspan: "7", text: "No events yet." })));
  $("#webhooks-older").hidden = !listed.older_omitted;
}

async function redeliver(button, event, orderId) {
  if (!confirm(`Send the ${event.type} event (sequence ${event.sequence}) again to your webhook and event bus?`)) return;
  clearMessages();
  await busy(button, async () => {
    await api("POST", `events/${encodeURIComponent(event.id)}/redeliver`);
    await showWebhooks(orderId);
    say(`The ${event.type} event was sent again.`);
  });
}

async function act(button, question, work) {
  if (!confirm(question)) return;
  clearMessages();
  await busy(button, async () => {
    const message = await work();
    await showOrder($("#order").dataset.orderId);
    say(message);
  });
}

function refund(event) {
  event.preventDefault();
  const orderId = $("#order").dataset.orderId;
  const currency = $("#order").dataset.currency;
  const amountText = $("#refund-amount").value.trim();
  const body = { refund_id: `console-${Date.now().toString(36)}` };
  if (amountText) {
    const value = minorUnits(amountText, currency);
    if (!value) {
      $("#refund-amount").setAttribute("aria-invalid", "true");
      fail(new Error(`the amount must be a number in ${currency} with at most ${exponent(currency)} decimals`));
      return;
    }
    body.amount = { value, currency };
  }
  const reason = $("#refund-reason").value.trim();
  if (reason) body.reason = reason;
  const what = body.amount ? major(body.amount) : "everything still refundable";
  act($("#refund"), `Refund ${what} of order ${orderId}?`, async () => {
    try {
      const made = await api("POST", `orders/${encodeURIComponent(orderId)}/refunds`, body);
      $("#refund-amount").value = "";
      $("#refund-reason").value = "";
      return `Refund ${made.refund_id} of ${major(made.amount)}: ${STATUS_WORDS[made.status] || made.status}.`;
    } catch (error) {
      if ((error.field || "").startsWith("amount")) $("#refund-amount").setAttribute("aria-invalid", "true");
      throw error;
    }
  });
}

// -- needs attention -----------------------------------------------------------------------------
async function showAttention() {
  show("attention");
  const flagged = [];
  let after = "";
  for (let page = 0; page < 10; page += 1) {
    const listed = await api("GET", `orders?${query({ flag: "any", limit: "100", after })}`);
    flagged.push(...listed.orders);
    if (!listed.next_after) break;
    after = listed.next_after;
  }
  flagged.reverse(); // oldest first
  const list = $("#attention-list");
  list.replaceChildren();
  for (const order of flagged) {
    const notes = el("ul", {}, ...order.flags.map((flag) => el("li", {}, flagChip(flag), WORDS.flags[flag] || "")));
    list.append(el("li", { "data-order-id": order.order_id },
      el("a", { href: `#order/${encodeURIComponent(order.order_id)}`, text: `Order ${order.order_id}` }),
      ` — ${major(order.amount)}, ${STATUS_WORDS[order.status] || order.status}, created ${when(order.created_at)}`, notes));
  }
  if (!flagged.length) list.append(el("li", { text: "Nothing needs attention." }));
}

// -- today: 14 days ------------------------------------------------------------------------------
function localDay(offset) {
  const day = new Date();
  day.setDate(day.getDate() - offset);
  return `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, "0")}-${String(day.getDate()).padStart(2, "0")}`;
}

function zone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

async function createdOn(day) {
  let count = 0;
  let after = "";
  const from = new Date(`${day}T00:00:00`).toISOString();
  const to = new Date(new Date(`${day}T00:00:00`).getTime() + 86399999).toISOString();
  for (let page = 0; page < 10; page += 1) {
    const listed = await api("GET", `orders?${query({ created_from: from, created_to: to, limit: "100", after })}`);
    count += listed.orders.length;
    if (!listed.next_after) return String(count);
    after = listed.next_after;
  }
  return `${count}+`;
}

async function showToday() {
  show("today");
  const refusals = showRefusals().catch((error) => error); // its own reads, beside the 14 days'
  const days = [];
  for (let offset = 13; offset >= 0; offset -= 1) days.push(localDay(offset));
  const rows = [];
  for (const day of days) {
    const [report, created] = await Promise.all([api("GET", `reports/daily?${query({ date: day, time_zone: zone() })}`), createdOn(day)]);
    const paid = report.lines.filter((line) => line.type === "payment" || line.type === "late_payment").length;
    rows.push({ day, created, paid, totals: report.totals });
  }
  const body = $("#days tbody");
  body.replaceChildren();
  for (const row of rows) {
    const sum = (field) => row.totals.map((total) => major({ value: total[field], currency: total.currency })).join(", ") || "0";
    const created = parseInt(row.created, 10);
    body.append(el("tr", { "data-day": row.day }, el("td", { text: row.day }), el("td", { text: row.created }),
      el("td", { text: String(row.paid) }), el("td", { text: created ? `${Math.round((100 * row.paid) / created)} %` : "—" }),
      el("td", { class: "money", text: sum("gross_paid") }), el("td", { class: "money", text: sum("refunded") })));
  }
  drawCharts(rows);
  const refused = await refusals;
  if (refused instanceof Error) throw refused;
}

function barChart(label, days, series, caption) {
  // A small bar chart drawn here as inline SVG (no library): for each day, one bar per series.
  const svgNs = "http://www.w3.org/2000/svg";
  const top = Math.max(1, ...series.flatMap((one) => one.values));
  const width = Math.floor(22 / series.length);
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", `0 0 ${Math.max(420, 30 + days.length * 28)} 160`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const add = (name, attributes, text) => {
    const node = document.createElementNS(svgNs, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text) node.textContent = text;
    svg.append(node);
  };
  add("line", { x1: 20, y1: 130, x2: 20 + days.length * 28, y2: 130, class: "axis" });
  days.forEach((day, index) => {
    const x = 24 + index * 28;
    series.forEach((one, place) => {
      const height = (110 * one.values[index]) / top;
      add("rect", { x: x + place * (width + 1), y: 130 - height, width, height, class: one.class, "data-day": day });
    });
    add("text", { x, y: 145 }, day.slice(8));
  });
  add("text", { x: 20, y: 12 }, caption(top));
  return svg;
}

function drawCharts(rows) {
  // One chart per currency: paid and refunded per day.
  const charts = $("#charts");
  charts.replaceChildren();
  const currencies = [...new Set(rows.flatMap((row) => row.totals.map((total) => total.currency)))];
  const days = rows.map((row) => row.day);
  for (const currency of currencies) {
    const sum = (row, field) => row.totals.filter((total) => total.currency === currency).reduce((s, t) => s + t[field], 0);
    const svg = barChart(`Paid and refunded per day in ${currency}, the last 14 days (the table below has the figures)`, days,
      [{ class: "bar-paid", values: rows.map((row) => sum(row, "gross_paid")) }, { class: "bar-refunded", values: rows.map((row) => sum(row, "refunded")) }],
      (top) => `${currency}: paid (blue), refunded (amber); top ${major({ value: top, currency })}`);
    charts.append(el("figure", { class: "chart", "data-currency": currency }, svg));
  }
}

async function showRefusals() {
  // GET /notifications/rejected keeps 7 days, newest first: paged until done (at most 20 pages).
  const days = [];
  for (let offset = 6; offset >= 0; offset -= 1) days.push(localDay(offset));
  const perDay = Object.fromEntries(days.map((day) => [day, 0]));
  const codes = new Map();
  let after = "";
  let complete = false;
  for (let page = 0; page < 20 && !complete; page += 1) {
    const listed = await api("GET", `notifications/rejected?${query({ limit: "100", after })}`);
    for (const refused of listed.rejected) {
      const received = new Date(refused.received_at);
      const day = `${received.getFullYear()}-${String(received.getMonth() + 1).padStart(2, "0")}-${String(received.getDate()).padStart(2, "0")}`;
      if (!(day in perDay)) continue;
      perDay[day] += 1;
      const code = codes.get(refused.code) || { count: 0, providers: new Set(), explanation: refused.explanation };
      code.count += 1;
      code.providers.add(refused.provider);
      codes.set(refused.code, code);
    }
    complete = !listed.next_after || listed.next_after === after || listed.rejected.length < 100;
    after = listed.next_after;
  }
  const total = days.reduce((sum, day) => sum + perDay[day], 0);
  const svg = barChart(`Refused notifications per day, the last 7 days: ${total}${complete ? "" : "+"} in all (the table below lists their codes)`, days,
    [{ class: "bar-refused", values: days.map((day) => perDay[day]) }], (top) => `refused notifications per day (red); top ${top}${complete ? "" : "+"}`);
  $("#refusals-chart").replaceChildren(el("figure", { class: "chart", "data-refused": String(total) }, svg));
  const body = $("#refusal-codes tbody");
  body.replaceChildren();
  for (const [code, seen] of [...codes.entries()].sort((a, b) => b[1].count - a[1].count)) {
    body.append(el("tr", { "data-code": code }, el("td", {}, el("code", { text: code })), el("td", { text: String(seen.count) }),
      el("td", { text: [...seen.providers].sort().join(", ") }), el("td", { text: seen.explanation || "" })));
  }
  if (!codes.size) body.append(el("tr", {}, el("td", { colspan: "4", text: "No notification was refused." })));
}

// -- reports -------------------------------------------------------------------------------------
function showReports() {
  show("reports");
  if (!$("#r-date").value) $("#r-date").value = localDay(1);
  if (!$("#r-zone").value) $("#r-zone").value = zone();
}

function reportParams(format) {
  return query({ date: $("#r-date").value, time_zone: $("#r-zone").value.trim(), format });
}

async function showReport(event) {
  event.preventDefault();
  clearMessages();
  await busy($("#show-report"), async () => {
    const report = await api("GET", `reports/daily?${reportParams("json")}`);
    const late = report.late_facts ? `; ${report.late_facts} reported after the day had settled (late)` : "";
    $("#report-summary").textContent = `${report.lines.length} movements from ${report.from} to ${report.to}` +
      `${report.final ? " (final)" : " (the day is not over: it may still change)"}${late}.`;
    const body = $("#totals tbody");
    body.replaceChildren();
    for (const total of report.totals) {
      const cell = (value) => el("td", { class: "money", text: major({ value, currency: total.currency }) });
      body.append(el("tr", { "data-currency": total.currency, "data-provider": total.provider }, el("td", { text: total.provider }), el("td", { text: total.currency }),
        cell(total.gross_paid), cell(total.refunded), cell(total.charged_back), cell(total.net), el("td", { text: String(total.lines) })));
    }
  });
}

async function download() {
  clearMessages();
  await busy($("#download"), async () => {
    const text = await api("GET", `reports/daily?${reportParams("csv")}`);
    const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `payments-${$("#r-date").value}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    say("The report was downloaded.");
  });
}

// -- start ---------------------------------------------------------------------------------------
async function signIn(event) {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("#api-key").value.trim());
  $("#api-key").value = "";
  await route();
}

function start() {
  // `make dev` opens the console as #key=<the local key>: kept in this tab, taken out of the address.
  const given = /^#key=(.+)$/.exec(location.hash);
  if (given) {
    sessionStorage.setItem(KEY, decodeURIComponent(given[1]));
    history.replaceState(null, "", `${location.pathname}${location.search}#orders`);
  }
  fillSelect($("#f-status"), WORDS.statuses, "Any status");
  fillSelect($("#f-flag"), ["any", ...Object.keys(WORDS.flags).sort()], "Flagged or not");
  fillSelect($("#f-provider"), WORDS.providers, "Any provider");
  $("#login-form").addEventListener("submit", signIn);
  $("#logout").addEventListener("click", () => { sessionStorage.removeItem(KEY); route(); });
  $("#filters").addEventListener("submit", (event) => { event.preventDefault(); clearMessages(); busy($("#apply"), () => showOrders()); });
  $("#filters").addEventListener("reset", () => setTimeout(() => busy($("#apply"), () => showOrders()), 0));
  $("#more").addEventListener("click", () => busy($("#more"), () => showOrders(true)));
  $("#refund-form").addEventListener("submit", refund);
  $("#cancel").addEventListener("click", () => act($("#cancel"), "Cancel this order at the provider?", async () => {
    const order = await api("POST", `orders/${encodeURIComponent($("#order").dataset.orderId)}/cancel`);
    return `The order is ${STATUS_WORDS[order.status] || order.status}.`;
  }));
  $("#sync").addEventListener("click", () => act($("#sync"), "Ask the provider about this order now?", async () => {
    const order = await api("POST", `orders/${encodeURIComponent($("#order").dataset.orderId)}/sync`);
    return `Asked the provider: the order is ${STATUS_WORDS[order.status] || order.status}.`;
  }));
  $("#refresh-webhooks").addEventListener("click", () => { clearMessages(); busy($("#refresh-webhooks"), () => showWebhooks($("#order").dataset.orderId)); });
  $("#report-form").addEventListener("submit", showReport);
  $("#download").addEventListener("click", download);
  window.addEventListener("hashchange", route);
  route();
}

start();
