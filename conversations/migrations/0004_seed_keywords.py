"""Seed keywords: what customers type for each intent, in the shops' main languages.

Staff edit the table in the admin; this only adds rows that are missing.
Words are stored normalised the way conversations.intents.normalise does
(lower case, no Latin accents, Arabic vowel or hamza marks).
"""

import re
import unicodedata

from django.db import migrations

SEED_KEYWORDS = {
    "menu": {
        "en": ["menu", "hi", "hello", "hey", "help", "start", "shop"],
        "ar": ["قائمة", "القائمة", "مرحبا", "السلام عليكم", "مساعدة"],
        "hi": ["मेनू", "नमस्ते", "मदद", "namaste"],
        "sw": ["menyu", "habari", "jambo", "msaada"],
        "pt": ["cardapio", "ola", "oi", "ajuda"],
    },
    "cart": {
        "en": ["cart", "basket", "my cart"],
        "ar": ["السلة", "سلة", "عربة التسوق"],
        "hi": ["कार्ट", "टोकरी"],
        "sw": ["kikapu", "toroli"],
        "pt": ["carrinho", "cesta"],
    },
    "checkout": {
        "en": ["checkout", "check out", "pay"],
        "ar": ["الدفع", "ادفع", "دفع"],
        "hi": ["भुगतान", "चेकआउट"],
        "sw": ["lipa", "malipo"],
        "pt": ["pagar", "finalizar", "pagamento"],
    },
    "agent": {
        "en": ["agent", "human", "person", "staff"],
        "ar": ["موظف", "خدمة العملاء", "شخص"],
        "hi": ["एजेंट", "सहायक", "इंसान"],
        "sw": ["wakala", "mhudumu", "mtu"],
        "pt": ["atendente", "humano", "pessoa"],
    },
    "stop": {
        "en": ["stop", "unsubscribe", "opt out"],
        "ar": ["توقف", "ايقاف", "الغاء الاشتراك"],
        "hi": ["रोकें", "बंद करें", "stop karo"],
        "sw": ["acha", "simama", "sitisha"],
        "pt": ["parar", "pare", "sair", "cancelar inscricao"],
    },
}


def normalise(text: str) -> str:
    """A frozen copy of conversations.intents.normalise."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = re.sub("[\u0300-\u036f\u0610-\u061a\u0640\u064b-\u065f\u0670]", "", text)
    return " ".join(re.split(r"[\s!?.,;:¡¿،؟।]+", unicodedata.normalize("NFC", text))).strip()


def seed(apps, schema_editor):
    Keyword = apps.get_model("conversations", "Keyword")
    for intent, languages in SEED_KEYWORDS.items():
        for language, words in languages.items():
            for word in words:
                Keyword.objects.get_or_create(word=normalise(word), defaults={"intent": intent, "language": language})


class Migration(migrations.Migration):
    dependencies = [("conversations", "0003_messages_media_keywords")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
