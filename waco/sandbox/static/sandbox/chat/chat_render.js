/* Messages of the thread as WhatsApp shows them. Pure DOM building: actions go through ctx
   (send, openList, openProductList, openCatalog, product, addToCart, mediaUrl, quote). */
(function () {
  "use strict";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  // WhatsApp's markup on escaped text: ```mono```, *bold*, _italic_, ~strike~, line breaks.
  function markup(text) {
    return escapeHtml(text)
      .replace(/```([^`]+)```/g, "<code>$1</code>")
      .replace(/(^|[^\w*])\*(\S(?:[^*\n]*\S)?)\*(?![\w*])/g, "$1<strong>$2</strong>")
      .replace(/(^|[^\w])_(\S(?:[^_\n]*\S)?)_(?!\w)/g, "$1<em>$2</em>")
      .replace(/(^|[^\w~])~(\S(?:[^~\n]*\S)?)~(?![\w~])/g, "$1<s>$2</s>")
      .replace(/\n/g, "<br>");
  }

  const URL_RE = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'])/;

  function formatted(text, cls) {
    const node = el("span", { class: cls || "text" });
    String(text || "").split(URL_RE).forEach((part, i) => {
      if (i % 2) {
        node.append(el("a", { href: part, target: "_blank", rel: "noopener noreferrer" }, part));
      } else if (part) {
        const span = el("span");
        span.innerHTML = markup(part);  // safe: markup() escapes before adding its own tags
        node.append(span);
      }
    });
    return node;
  }

  // Inline SVG, as WhatsApp draws them: no emoji font needed, nothing fetched.
  const svg = (body) => `<svg viewBox="0 0 18 12" width="18" height="12" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;
  const CHECK = "M1.5 6.5l3 3 6.5-8";
  const TICKS = {
    accepted: [svg('<circle cx="8" cy="6" r="4.5"/><path d="M8 3.5V6l1.8 1.2"/>'), "Pending"],
    sent: [svg(`<path d="${CHECK}"/>`), "Sent"],
    delivered: [svg(`<path d="${CHECK}"/><path d="M7.5 8.5l1 1 6.5-8"/>`), "Delivered"],
    read: [svg(`<path d="${CHECK}"/><path d="M7.5 8.5l1 1 6.5-8"/>`), "Read"],
    failed: ["!", "Failed"],
  };

  function setTicks(node, status) {
    const [icon, label] = TICKS[status] || TICKS.accepted;
    node.innerHTML = icon;  // constant markup above
    node.dataset.status = status;
    node.setAttribute("aria-label", label);
    node.title = label;
  }

  function timeOf(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function media(ctx, kind, spec, label) {
    const src = spec.link || (spec.id ? ctx.mediaUrl(spec.id) : "");
    if (kind === "image" || kind === "sticker") {
      return el("img", { class: kind === "sticker" ? "sticker" : "media", src, alt: spec.caption || label || "Image", loading: "lazy" });
    }
    if (kind === "video") return el("video", { class: "media", src, controls: true });
    if (kind === "audio") return el("audio", { src, controls: true });
    return el("a", { class: "doc", href: src, target: "_blank", rel: "noopener" }, spec.filename || label || "Document");
  }

  function header(ctx, h) {
    if (!h) return null;
    if (h.type === "text") return el("strong", { class: "head" }, h.text);
    const spec = h[h.type] || h;
    return media(ctx, h.type, spec);
  }

  function footer(text) {
    return text ? el("span", { class: "foot" }, text) : null;
  }

  // --- content by type: each returns {body: [nodes], below: [nodes]} ---------------------

  function productCard(ctx, retailerId, withButton) {
    const card = el("div", { class: "product", "data-retailer-id": retailerId }, el("span", { class: "muted" }, retailerId));
    ctx.product(retailerId).then((p) => {
      card.replaceChildren(...[
        p && p.image ? el("img", { src: p.image, alt: "", loading: "lazy" }) : el("div", { class: "product__noimg", "aria-hidden": "true" }, (p ? p.title : retailerId).slice(0, 1)),
        el("div", { class: "product__info" },
          el("strong", {}, p ? p.title : retailerId),
          el("span", { class: "price" }, p ? p.price : "Not in the catalog")),
        withButton && p ? el("button", { type: "button", class: "btn", "aria-label": `Add ${p.title} to cart`, onclick: () => ctx.addToCart(p) }, "Add to cart") : null,
      ].filter(Boolean));
    });
    return card;
  }

  function interactive(ctx, it) {
    const action = it.action || {};
    const params = action.parameters || {};
    const body = [header(ctx, it.header), it.body && formatted(it.body.text), footer(it.footer && it.footer.text)];
    const below = [];
    const reply = (kind, fields) => ctx.send({ type: "interactive", interactive: { type: kind, [kind]: fields } });
    if (it.type === "button") {
      for (const b of action.buttons || []) {
        const r = b.reply || {};
        below.push(el("button", { type: "button", class: "reply", onclick: () => reply("button_reply", { id: r.id, title: r.title }) }, r.title));
      }
    } else if (it.type === "list") {
      below.push(el("button", { type: "button", class: "reply", onclick: () => ctx.openList(it, (row) => reply("list_reply", row)) },
        el("span", { "aria-hidden": "true" }, "☰ "), action.button || "Menu"));
    } else if (it.type === "cta_url") {
      below.push(el("a", { class: "reply", href: params.url, target: "_blank", rel: "noopener noreferrer" },
        el("span", { "aria-hidden": "true" }, "↗ "), params.display_text || params.url));
    } else if (it.type === "product") {
      body.unshift(productCard(ctx, action.product_retailer_id, true));
    } else if (it.type === "product_list") {
      below.push(el("button", { type: "button", class: "reply", onclick: () => ctx.openProductList(it) }, "View items"));
    } else if (it.type === "catalog_message") {
      if (params.thumbnail_product_retailer_id) body.unshift(productCard(ctx, params.thumbnail_product_retailer_id, false));
      below.push(el("button", { type: "button", class: "reply", onclick: () => ctx.openCatalog() }, "View catalog"));
    } else if (it.type === "flow") {
      below.push(el("button", { type: "button", class: "reply", disabled: true, title: "Flows are not simulated" }, params.flow_cta || "Open form"));
    }
    return { body, below };
  }

  function template(ctx, spec, shown) {
    if (!shown) {
      const params = (spec.components || []).flatMap((c) => (c.parameters || []).map((p) => p.text ?? p.payload ?? JSON.stringify(p[p.type] ?? p)));
      return { body: [el("strong", { class: "head" }, `Template ${spec.name} (${(spec.language || {}).code || "?"})`),
        params.length ? el("span", { class: "muted" }, params.join(" · ")) : null], below: [] };
    }
    const h = shown.header;
    const body = [h && (h.type === "text" ? el("strong", { class: "head" }, h.text) : media(ctx, h.type, h)), formatted(shown.body), footer(shown.footer)];
    const below = shown.buttons.map((b) => {
      if (b.type === "QUICK_REPLY") {
        return el("button", { type: "button", class: "reply", onclick: () => ctx.send({ type: "button", button: { payload: b.payload, text: b.text } }) }, b.text);
      }
      const href = b.type === "URL" ? b.url : `tel:${b.phone_number || ""}`;
      return el("a", { class: "reply", href, target: "_blank", rel: "noopener noreferrer" }, b.text);
    });
    return { body, below };
  }

  function order(ctx, o) {
    const items = o.product_items || [];
    const total = items.reduce((sum, i) => sum + Math.round(i.item_price * 100) * i.quantity, 0);
    const count = items.reduce((sum, i) => sum + i.quantity, 0);
    const line = (i) => {
      const node = el("li", {}, `${i.quantity} × ${i.product_retailer_id}`);
      ctx.product(i.product_retailer_id).then((p) => { if (p) node.textContent = `${i.quantity} × ${p.title}`; });
      return node;
    };
    return { body: [
      el("strong", { class: "head" }, `${count} item${count === 1 ? "" : "s"}`),
      el("ul", { class: "order" }, items.map(line)),
      el("span", {}, `Total ${(total / 100).toFixed(2)} ${items[0] ? items[0].currency : ""}`),
      o.text ? formatted(o.text) : null,
    ], below: [] };
  }

  const CONTENT = {
    text: (ctx, m) => ({ body: [formatted(m.text.body)], below: [] }),
    interactive: (ctx, m) => {
      const it = m.interactive;
      if (!String(it.type).endsWith("_reply")) return interactive(ctx, it);
      const r = it[it.type] || {};  // the customer's own tap: WhatsApp shows the title
      return { body: [formatted(r.title || r.body || "Form sent")], below: [] };
    },
    button: (ctx, m) => ({ body: [formatted(m.button.text)], below: [] }),
    template: (ctx, m, item) => template(ctx, m.template, item.template),
    order: (ctx, m) => order(ctx, m.order),
    location: (ctx, m) => ({ body: [el("span", {}, "Location: ", m.location.name || `${m.location.latitude}, ${m.location.longitude}`),
      m.location.address ? el("span", { class: "muted" }, m.location.address) : null], below: [] }),
    contacts: (ctx, m) => ({ body: [el("span", {}, "Contact: ", (m.contacts || []).map((c) => (c.name || {}).formatted_name).join(", "))], below: [] }),
  };

  function content(ctx, item) {
    const m = item.message;
    if (CONTENT[m.type] && m[m.type] !== undefined) return CONTENT[m.type](ctx, m, item);
    if (["image", "video", "audio", "document", "sticker"].includes(m.type) && m[m.type]) {
      const spec = m[m.type];
      return { body: [media(ctx, m.type, spec), spec.caption ? formatted(spec.caption) : null], below: [] };
    }
    return { body: [el("span", { class: "muted" }, `[${m.type || "message"}]`)], below: [] };
  }

  // A short text of a message, for quotes of replies.
  function snippet(m) {
    const part = m[m.type] || {};
    if (m.type === "text") return part.body;
    if (m.type === "interactive") return (part[part.type] || {}).title || (part.body || {}).text || "";
    return part.caption || part.text || `[${m.type}]`;
  }

  function renderItem(ctx, item) {
    const mine = item.from === "customer";
    const { body, below } = content(ctx, item);
    const context = item.message.context && ctx.quote(item.message.context.message_id || item.message.context.id);
    const ticks = el("span", { class: "ticks", role: "img" });
    setTicks(ticks, item.status);
    const bubble = el("div", { class: "bubble" },
      context ? el("blockquote", { class: "quote" }, context) : null,
      ...body,
      el("span", { class: "meta" }, el("time", { datetime: item.at }, timeOf(item.at)), ticks));
    return el("li", {
      class: `msg ${mine ? "msg--mine" : "msg--theirs"}`,
      "data-key": item.key, "data-wamid": item.wamid, "data-ts": String(Date.parse(item.at)),
      "data-type": item.message.type, "data-snippet": snippet(item.message) || "",
    }, bubble, below.length ? el("div", { class: "below" }, below) : null);
  }

  window.ChatRender = { el, formatted, renderItem, setTicks };
})();
