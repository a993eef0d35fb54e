# The sandbox's Graph API, customer and Stripe endpoints are mounted here.
urlpatterns: list = []
