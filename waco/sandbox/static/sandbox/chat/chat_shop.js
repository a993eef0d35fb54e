/* The bottom sheet (list menus, product lists, the catalog) and the customer's cart, which
   is sent as an `order` message like WhatsApp's "Send to business". */
(function () {
  "use strict";
  const { el, formatted } = window.ChatRender;
  // An unknown product may have been pushed since the catalog was read: read again, not too often.
  const CATALOG_REFRESH_MS = 3000;

  function createShop({ catalogUrl, send }) {
    const dialog = document.getElementById("sheet");
    const cart = new Map();  // retailer_id -> {product, quantity}
    let catalog = { catalog_id: "", products: [] };
    let loadedAt = 0;
    let loading = null;
    let refresh = null;  // redraws the open sheet when the cart changes

    dialog.addEventListener("click", (event) => {
      if (event.target === dialog || event.target.closest("[data-close]")) dialog.close();
    });
    dialog.addEventListener("close", () => { refresh = null; });

    function load() {
      loading = loading || fetch(catalogUrl()).then((r) => (r.ok ? r.json() : Promise.reject(r)))
        .then((data) => { catalog = data; loadedAt = Date.now(); })
        .catch(() => {})
        .finally(() => { loading = null; });
      return loading;
    }

    function find(id) { return catalog.products.find((p) => p.retailer_id === id) || null; }

    async function product(id) {
      if (!find(id) && Date.now() - loadedAt > CATALOG_REFRESH_MS) await load();
      return find(id);
    }

    function open(title, draw) {
      refresh = () => {
        const [body, foot] = draw();
        document.getElementById("sheet-body").replaceChildren(...body.flat().filter(Boolean));
        document.getElementById("sheet-foot").replaceChildren(...foot.flat().filter(Boolean));
      };
      document.getElementById("sheet-title").textContent = title;
      refresh();
      if (!dialog.open) dialog.showModal();
    }

    function changed() { if (refresh) refresh(); }

    function setQuantity(p, quantity) {
      if (quantity > 0) cart.set(p.retailer_id, { product: p, quantity });
      else cart.delete(p.retailer_id);
      changed();
    }

    function stepper(p) {
      const line = cart.get(p.retailer_id);
      if (!p.available) return el("button", { type: "button", class: "btn", disabled: true }, "Sold out");
      if (!line) {
        return el("button", { type: "button", class: "btn", "aria-label": `Add ${p.title} to cart`, onclick: () => setQuantity(p, 1) }, "Add");
      }
      return el("span", { class: "stepper" },
        el("button", { type: "button", class: "btn", "aria-label": `Remove one ${p.title}`, onclick: () => setQuantity(p, line.quantity - 1) }, "−"),
        el("output", { "aria-label": `Quantity of ${p.title}` }, String(line.quantity)),
        el("button", { type: "button", class: "btn", "aria-label": `Add one more ${p.title}`, onclick: () => setQuantity(p, line.quantity + 1) }, "+"));
    }

    function productRow(p) {
      return el("li", { class: "row row--product", "data-retailer-id": p.retailer_id },
        p.image ? el("img", { src: p.image, alt: "", loading: "lazy" }) : el("div", { class: "product__noimg", "aria-hidden": "true" }, p.title.slice(0, 1)),
        el("div", { class: "row__text" }, el("strong", {}, p.title), el("span", { class: "price" }, p.price),
          p.description && p.description !== p.title ? el("span", { class: "muted" }, p.description) : null),
        stepper(p));
    }

    function totals() {
      let cents = 0, count = 0, currency = "";
      for (const { product: p, quantity } of cart.values()) {
        cents += Math.round(Number(p.amount) * 100) * quantity;
        count += quantity;
        currency = p.currency;
      }
      return { count, text: `${(cents / 100).toFixed(2)} ${currency}` };
    }

    function cartBar() {
      const { count, text } = totals();
      if (!count) return [el("span", { class: "muted" }, "Your cart is empty")];
      return [el("span", {}, `${count} item${count === 1 ? "" : "s"} · ${text}`),
        el("button", { type: "button", class: "btn btn--primary", onclick: openCart }, `View cart (${count})`)];
    }

    function openProducts(title, sections) {
      open(title, () => [
        sections.map((s) => el("section", {},
          s.title ? el("h3", {}, s.title) : null,
          el("ul", { class: "rows" }, s.products.map(productRow)))),
        cartBar(),
      ]);
    }

    async function openCatalog() {
      await load();
      const sections = [{ title: "", products: catalog.products }];
      openProducts("Catalog", sections);
      if (!catalog.products.length) {
        document.getElementById("sheet-body").replaceChildren(el("p", { class: "muted" }, "The shop's catalog is empty."));
      }
    }

    async function openProductList(it) {
      const sections = [];
      for (const s of (it.action || {}).sections || []) {
        const ids = (s.product_items || []).map((i) => i.product_retailer_id);
        const products = (await Promise.all(ids.map(product))).filter(Boolean);
        sections.push({ title: s.title, products });
      }
      openProducts((it.header && it.header.text) || "Products", sections);
    }

    function openCart() {
      open("Your cart", () => {
        const lines = [...cart.values()].map((l) => productRow(l.product));
        const { count, text } = totals();
        return [
          [lines.length ? el("ul", { class: "rows" }, lines) : el("p", { class: "muted" }, "Your cart is empty.")],
          count ? [el("span", {}, `Total ${text}`), el("button", { type: "button", class: "btn btn--primary", onclick: sendOrder }, "Send order")] : [],
        ];
      });
    }

    async function sendOrder() {
      const product_items = [...cart.values()].map(({ product: p, quantity }) => ({
        product_retailer_id: p.retailer_id, quantity, item_price: Number(p.amount), currency: p.currency,
      }));
      const ok = await send({ type: "order", order: { catalog_id: catalog.catalog_id, text: "", product_items } });
      if (ok) { cart.clear(); dialog.close(); }
    }

    function openList(it, onRow) {
      const action = it.action || {};
      open(action.button || "Menu", () => [
        (action.sections || []).map((s, si) => el("section", {},
          s.title ? el("h3", {}, s.title) : null,
          el("ul", { class: "rows" }, (s.rows || []).map((r, ri) => {
            const described = r.description ? `row-${si}-${ri}-desc` : null;
            const pick = () => {
              dialog.close();
              onRow(r.description ? { id: r.id, title: r.title, description: r.description } : { id: r.id, title: r.title });
            };
            return el("li", {}, el("button", { type: "button", class: "row row--pick", "aria-label": r.title, "aria-describedby": described, onclick: pick },
              el("strong", {}, r.title), described ? el("span", { class: "muted", id: described }, r.description) : null));
          })))),
        [it.body ? formatted(it.body.text, "muted") : ""],
      ]);
    }

    function addToCart(p) {
      const line = cart.get(p.retailer_id);
      setQuantity(p, line ? line.quantity + 1 : 1);
      openCart();
    }

    function reset() { cart.clear(); catalog = { catalog_id: "", products: [] }; loadedAt = 0; if (dialog.open) dialog.close(); }

    return { load, product, openCatalog, openProductList, openList, addToCart, reset };
  }

  window.ChatShop = { createShop };
})();
