import factory

from catalog.models import Category, FeedFormat, FeedSource, Product, Shop, Variant
from tests.channels.factories import BusinessAccountFactory


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    business_account = factory.SubFactory(BusinessAccountFactory)
    meta_catalog_id = factory.Sequence(lambda n: f"{900000000000 + n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    business_account = factory.SubFactory(BusinessAccountFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    business_account = factory.SelfAttribute("category.business_account")
    external_id = factory.Sequence(lambda n: f"P{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n:04d}")


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    attributes = factory.LazyFunction(lambda: {"size": "M"})
    price_minor = 12_50
    currency = "AED"
    on_hand = 5


class FeedSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedSource

    business_account = factory.SubFactory(BusinessAccountFactory)
    url = factory.Sequence(lambda n: f"https://erp.example.com/feeds/{n}.json")
    format = FeedFormat.JSON


def feed_item(sku: str, **overrides) -> dict:
    """One flat feed item, as the system of record sends it."""
    return {
        "sku": sku,
        "product_id": sku.rsplit("-", 1)[0],
        "name": f"Product {sku}",
        "category": "Abayas",
        "price": "12.50",
        "currency": "AED",
        "stock": 3,
        "attributes": {"size": "M"},
        **overrides,
    }


# A two-row CSV feed: one product, size S in stock, size M sold out.
CSV_FEED = (
    "sku,product_id,name,category,price,currency,stock,attr_size,attr_colour\n"
    "ABY-1-S,ABY-1,Black Abaya,Abayas,320.00,AED,4,S,Black\n"
    "ABY-1-M,ABY-1,Black Abaya,Abayas,320.00,AED,0,M,Black\n"
)
