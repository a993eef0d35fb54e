/* The demo chat page: who the customer is, sending through the sandbox's customer endpoint,
   and polling the thread (new items in time order, ticks updated in place). */
(function () {
  "use strict";
  const { el, renderItem, setTicks } = window.ChatRender;
  const POLL_MS = 600;
  const HIDDEN_POLL_MS = 3000;  // a background tab need not hammer the server
  const ERROR_POLL_MS = 2000;
  const MAX_IMAGE_BYTES = 5 * 1024 * 1024;  // Meta's image limit; the sandbox refuses more
  const WA_ID = /^\d{6,20}$/;
  // A customer who shows the business only a username is known by their BSUID, never a phone.
  const BSUID = /^[A-Z]{2}\.[A-Za-z0-9]{1,128}$/;
  const STORE = { waId: "waco.chat.wa_id", name: "waco.chat.name", number: "waco.chat.number" };

  const numbers = JSON.parse(document.getElementById("chat-numbers").textContent);
  const urls = JSON.parse(document.getElementById("chat-urls").textContent);
  const $ = (id) => document.getElementById(id);
  const thread = $("thread");

  const state = { waId: "", name: "", numberId: "", cursor: "", seen: new Set(), reactions: new Map(),
    generation: 0, timer: null, inFlight: false, again: false };

  const shop = window.ChatShop.createShop({
    catalogUrl: () => `${urls.catalog}?${new URLSearchParams({ phone_number_id: state.numberId })}`,
    send: (message) => send(message),
  });
  const ctx = {
    send: (message) => send(message),
    openList: shop.openList, openProductList: shop.openProductList, openCatalog: shop.openCatalog,
    product: shop.product, addToCart: shop.addToCart,
    mediaUrl: (id) => urls.media + encodeURIComponent(id),
    quote: (wamid) => {
      const target = wamid && thread.querySelector(`[data-wamid="${CSS.escape(wamid)}"]`);
      return target ? target.dataset.snippet : null;
    },
  };

  function showError(message) {
    $("error").hidden = !message;
    $("error").textContent = message || "";
  }

  // --- who is chatting ---------------------------------------------------------------

  function restore() {
    const query = new URLSearchParams(location.search);
    $("wa-id").value = query.get("wa_id") || localStorage.getItem(STORE.waId) || "";
    $("name").value = query.get("name") || localStorage.getItem(STORE.name) || "";
    const wanted = query.get("phone_number_id") || localStorage.getItem(STORE.number);
    if (numbers.some((n) => n.phone_number_id === wanted)) $("number").value = wanted;
  }

  function openChat() {
    const typed = $("wa-id").value.trim();
    const waId = BSUID.test(typed) ? typed : typed.replace(/\D/g, "");
    if (!WA_ID.test(waId) && !BSUID.test(waId)) {
      showError("Your phone number must be 6 to 20 digits, with the country code (or a BSUID like US.13491208655302741918).");
      return;
    }
    state.waId = waId;
    state.name = $("name").value.trim();
    state.numberId = $("number").value;
    localStorage.setItem(STORE.waId, state.waId);
    localStorage.setItem(STORE.name, state.name);
    localStorage.setItem(STORE.number, state.numberId);
    const number = numbers.find((n) => n.phone_number_id === state.numberId) || {};
    $("shop-name").textContent = number.verified_name || "Business";
    $("shop-sub").textContent = number.display_phone_number ? `+${number.display_phone_number}` : "";
    Object.assign(state, { cursor: "", seen: new Set(), reactions: new Map(), generation: state.generation + 1 });
    thread.replaceChildren();
    showError("");
    // On a phone the chat needs the room: fold the customer form once a chat is open.
    if (window.matchMedia("(max-width: 760px)").matches) document.querySelector(".who").open = false;
    shop.reset();
    shop.load();
    poll();
  }

  // --- sending ---------------------------------------------------------------------------

  async function send(message, extra) {
    if (!state.waId) { showError("Open a chat first: type your phone number."); return false; }
    const who = BSUID.test(state.waId) ? { user_id: state.waId } : { from: state.waId };
    const payload = { ...who, name: state.name, phone_number_id: state.numberId, message, ...extra };
    try {
      const response = await fetch(urls.send, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) { showError(answer.error || `Sending failed (${response.status})`); return false; }
    } catch (err) {
      showError("The server cannot be reached."); return false;
    }
    showError("");
    pollSoon();
    return true;
  }

  async function sendText(event) {
    event.preventDefault();
    const text = $("text").value.trim();
    if (text && await send({ type: "text", text: { body: text } })) $("text").value = "";
  }

  function sendImage() {
    const file = $("attach").files[0];
    $("attach").value = "";
    if (!file) return;
    if (file.size > MAX_IMAGE_BYTES) { showError("Images are limited to 5 MB."); return; }
    const reader = new FileReader();
    reader.onload = async () => {
      const caption = $("text").value.trim();
      const image = { mime_type: file.type || undefined, ...(caption ? { caption } : {}) };
      const base64 = String(reader.result).split(",", 2)[1];
      if (await send({ type: "image", image }, { media_base64: base64 }) && caption) $("text").value = "";
    };
    reader.readAsDataURL(file);
  }

  // --- the thread --------------------------------------------------------------------------

  function insertInOrder(node) {
    const ts = Number(node.dataset.ts);
    let after = thread.lastElementChild;
    while (after && Number(after.dataset.ts) > ts) after = after.previousElementSibling;
    if (after) after.after(node); else thread.prepend(node);
  }

  function applyReactions() {
    for (const [wamid, emoji] of state.reactions) {
      const target = thread.querySelector(`[data-wamid="${CSS.escape(wamid)}"] .bubble`);
      if (!target) continue;
      let badge = target.querySelector(".reaction");
      if (!emoji) { if (badge) badge.remove(); state.reactions.delete(wamid); continue; }
      if (!badge) { badge = el("span", { class: "reaction", role: "img" }); target.append(badge); }
      badge.textContent = emoji;
      badge.setAttribute("aria-label", `Reaction ${emoji}`);
      state.reactions.delete(wamid);
    }
  }

  function apply(data) {
    const nearBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
    let added = false;
    for (const item of data.items) {
      if (state.seen.has(item.key)) continue;
      state.seen.add(item.key);
      if (item.message.type === "reaction") {
        state.reactions.set(item.message.reaction.message_id, item.message.reaction.emoji);
        continue;
      }
      insertInOrder(renderItem(ctx, item));
      added = true;
    }
    applyReactions();
    for (const [wamid, status] of Object.entries(data.ticks)) {
      const ticks = thread.querySelector(`[data-wamid="${CSS.escape(wamid)}"] .ticks`);
      if (ticks && ticks.dataset.status !== status) setTicks(ticks, status);
    }
    const number = numbers.find((n) => n.phone_number_id === state.numberId) || {};
    $("shop-sub").textContent = data.typing ? "typing…" : (number.display_phone_number ? `+${number.display_phone_number}` : "");
    state.cursor = data.cursor;
    if (added && nearBottom) thread.scrollTop = thread.scrollHeight;
  }

  async function poll() {
    clearTimeout(state.timer);
    if (!state.waId) return;
    if (state.inFlight) { state.again = true; return; }
    const generation = state.generation;
    const query = new URLSearchParams({ wa_id: state.waId, phone_number_id: state.numberId, since: state.cursor });
    let wait = document.hidden ? HIDDEN_POLL_MS : POLL_MS;
    state.inFlight = true;
    try {
      const response = await fetch(`${urls.thread}?${query}`, { cache: "no-store" });
      const data = await response.json();
      if (generation !== state.generation) wait = 0;  // the customer switched chats meanwhile
      else if (!response.ok) { showError(data.error || `Error ${response.status}`); wait = ERROR_POLL_MS; }
      else apply(data);
    } catch (err) {
      wait = ERROR_POLL_MS;
    } finally {
      state.inFlight = false;
    }
    if (state.again) { state.again = false; wait = 0; }
    state.timer = setTimeout(poll, wait);
  }

  function pollSoon() {
    clearTimeout(state.timer);
    poll();
  }

  // --- wiring --------------------------------------------------------------------------------

  $("who").addEventListener("submit", (event) => { event.preventDefault(); openChat(); });
  $("composer").addEventListener("submit", sendText);
  $("attach").addEventListener("change", sendImage);
  $("open-catalog").addEventListener("click", () => (state.waId ? shop.openCatalog() : showError("Open a chat first: type your phone number.")));
  document.addEventListener("visibilitychange", () => { if (!document.hidden) pollSoon(); });
  restore();
  const remembered = $("wa-id").value.trim();
  if ((WA_ID.test(remembered) || BSUID.test(remembered)) && numbers.length) openChat();
})();
