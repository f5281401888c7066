// Checks Adaptive Cards the way Teams renders them, with Microsoft's `adaptivecards` renderer.
//
//   mkdir -p /tmp/cards /tmp/acr && (cd /tmp/acr && npm install adaptivecards@2 jsdom)
//   RECONNECT_CARD_DUMP=/tmp/cards uv run pytest tests/adapters/teams -n 0   # every card the tests send
//   NODE_PATH=/tmp/acr/node_modules node teams/check_cards.cjs /tmp/cards
//
// For each card: it parses without validation errors under a Teams host config (maxActions 6),
// every action defined is rendered (none cut off by maxActions), no raw markdown run is glued to
// the next word ("**Label:**text"), and the message as sent is under Teams' ~28 KB limit.
"use strict";
const fs = require("fs");
const path = require("path");
const { JSDOM } = require("jsdom");

const dom = new JSDOM("<!doctype html><html><body></body></html>");
for (const name of ["window", "document", "Node", "HTMLElement", "HTMLButtonElement", "HTMLInputElement",
  "HTMLSelectElement", "HTMLTextAreaElement", "HTMLDivElement", "HTMLAnchorElement", "Element", "getComputedStyle"]) {
  global[name] = name === "window" ? dom.window : dom.window[name];
}
const AC = require("adaptivecards");
// Teams renders markdown; for these checks the text passes through unchanged.
AC.AdaptiveCard.onProcessMarkdown = (text, result) => { result.outputHtml = text; result.didProcess = true; };

const hostConfig = new AC.HostConfig({
  supportsInteractivity: true,
  fontFamily: "Segoe UI",
  actions: { maxActions: 6, actionsOrientation: "horizontal", spacing: "default" },
});
const MESSAGE_LIMIT = 28 * 1024;

const dir = process.argv[2];
let problems = 0;
let checked = 0;
let largest = 0;
for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".json"))) {
  const { card: json, message_bytes: bytes } = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
  const fail = (why) => { problems += 1; console.log(`${name}: ${why}`); };
  checked += 1;
  largest = Math.max(largest, bytes);
  if (bytes > MESSAGE_LIMIT) fail(`message is ${bytes} bytes as sent (limit ~${MESSAGE_LIMIT})`);
  const card = new AC.AdaptiveCard();
  card.hostConfig = hostConfig;
  const context = new AC.SerializationContext();
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    if (event.phase !== undefined && event.message) fail(`parse: ${event.message}`);
  }
  const validation = card.validateProperties();
  for (const event of validation.validationEvents) fail(`validation: ${event.message}`);
  const element = card.render();
  if (!element) { fail("did not render"); continue; }
  const defined = (JSON.stringify(json).match(/"type":"Action\.[A-Za-z]+"/g) || []).length;
  const rendered = element.querySelectorAll("button").length;
  if (rendered < defined) fail(`${defined} actions defined, ${rendered} rendered (maxActions cut some)`);
  for (const run of JSON.stringify(json).match(/\*\*[^*"]+\*\*[A-Za-z]/g) || []) fail(`markdown glued to the next word: ${run}`);
}
console.log(`${checked} cards checked, largest message ${largest} bytes, ${problems} problems`);
process.exit(problems ? 1 : 0);
