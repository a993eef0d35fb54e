"""A catalog that looks real for the demo shop: modest fashion, priced in AED."""

from django.utils import timezone

from catalog.models import SyncRun
from catalog.services import catalog_upsert
from waco.channels.models import BusinessAccount

IMAGE = "/static/catalog/demo/{}.png"  # WhatsApp image headers take JPEG or PNG

# (category, product id, name, description, image, price AED, variants: (suffix, attributes, stock))
_SIZES = ("S", "M", "L")
PRODUCTS = [
    (
        "Abayas",
        "ABY-CLASSIC",
        "Classic Black Abaya",
        "Flowing crepe abaya with a hidden zip.",
        "abaya",
        "320.00",
        [("BLK-" + s, {"size": s, "colour": "Black"}, stock) for s, stock in zip(_SIZES, (8, 12, 0), strict=True)],
    ),
    (
        "Abayas",
        "ABY-LINEN",
        "Linen Open Abaya",
        "Light linen, open front, for summer.",
        "abaya",
        "275.50",
        [("SND-" + s, {"size": s, "colour": "Sand"}, 5) for s in _SIZES],
    ),
    (
        "Abayas",
        "ABY-EMBR",
        "Embroidered Abaya",
        "Hand embroidered sleeves.",
        "abaya",
        "540.00",
        [("NVY-M", {"size": "M", "colour": "Navy"}, 3), ("NVY-L", {"size": "L", "colour": "Navy"}, 0)],
    ),
    (
        "Abayas",
        "ABY-KIMONO",
        "Kimono Abaya",
        "Wide sleeves, belted.",
        "abaya",
        "390.00",
        [("OLV-M", {"size": "M", "colour": "Olive"}, 4)],
    ),
    (
        "Scarves",
        "SCF-SILK",
        "Silk Shayla",
        "Pure silk, 180 x 70 cm.",
        "scarf",
        "145.00",
        [(c[:3].upper(), {"colour": c}, n) for c, n in (("Rose", 10), ("Ivory", 6), ("Black", 0))],
    ),
    (
        "Scarves",
        "SCF-JERSEY",
        "Jersey Hijab",
        "Soft stretch jersey, no pins needed.",
        "scarf",
        "55.00",
        [(c[:3].upper(), {"colour": c}, 20) for c in ("Grey", "Navy", "Mocha")],
    ),
    (
        "Scarves",
        "SCF-CHIFFON",
        "Chiffon Wrap",
        "Sheer chiffon with a pearl edge.",
        "scarf",
        "85.00",
        [("WHT", {"colour": "White"}, 9)],
    ),
    (
        "Kaftans",
        "KFT-PRINT",
        "Printed Kaftan",
        "Cotton kaftan with a block print.",
        "kaftan",
        "260.00",
        [("BLU-" + s, {"size": s, "colour": "Blue"}, 4) for s in _SIZES],
    ),
    (
        "Kaftans",
        "KFT-EVENING",
        "Evening Kaftan",
        "Satin kaftan with beading.",
        "kaftan",
        "680.00",
        [("GLD-M", {"size": "M", "colour": "Gold"}, 2), ("GLD-L", {"size": "L", "colour": "Gold"}, 1)],
    ),
    (
        "Kaftans",
        "KFT-HOME",
        "Lounge Kaftan",
        "Easy cotton for home.",
        "kaftan",
        "149.99",
        [("PNK-" + s, {"size": s, "colour": "Pink"}, 0 if s == "S" else 7) for s in _SIZES],
    ),
    (
        "Bags",
        "BAG-TOTE",
        "Leather Tote",
        "Full-grain leather, fits a laptop.",
        "bag",
        "495.00",
        [("TAN", {"colour": "Tan"}, 6), ("BLK", {"colour": "Black"}, 3)],
    ),
    (
        "Bags",
        "BAG-CLUTCH",
        "Pearl Clutch",
        "Evening clutch with a chain strap.",
        "bag",
        "210.00",
        [("CRM", {"colour": "Cream"}, 5)],
    ),
    ("Bags", "BAG-CROSS", "Crossbody Bag", "Small, many pockets.", "bag", "180.00", [("BRN", {"colour": "Brown"}, 0)]),
    (
        "Fragrance",
        "FRG-OUD",
        "Oud Al Layl",
        "Oud and rose, 100 ml eau de parfum.",
        "perfume",
        "350.00",
        [("100ML", {"size": "100 ml"}, 15), ("50ML", {"size": "50 ml"}, 11)],
    ),
    (
        "Fragrance",
        "FRG-MUSK",
        "White Musk Oil",
        "Alcohol-free perfume oil, 12 ml.",
        "perfume",
        "95.00",
        [("12ML", {"size": "12 ml"}, 30)],
    ),
]


def demo_items() -> list[dict]:
    items = []
    for category, product_id, name, description, image, price, variants in PRODUCTS:
        for suffix, attributes, stock in variants:
            items.append(
                {
                    "sku": f"{product_id}-{suffix}",
                    "product_id": product_id,
                    "name": name,
                    "category": category,
                    "description": description,
                    "price": price,
                    "currency": "AED",
                    "stock": stock,
                    "attributes": attributes,
                    "image_url": IMAGE.format(image),
                }
            )
    return items


def demo_catalog_seed(*, business_account: BusinessAccount) -> SyncRun:
    """Upsert the demo catalog (idempotent: a second run reports everything unchanged)."""
    return catalog_upsert(
        business_account=business_account,
        items=demo_items(),
        source="demo",
        now=timezone.now(),
        full=False,
    ).run
