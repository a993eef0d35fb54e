from tests.browser.chat_shop import chat_shop  # noqa: F401  (the shop the chat-page journeys play in)
