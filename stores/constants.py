"""Names that stores reads on Oscar's orders, defined once (docs/architecture.md, "Constants").

Plain Python, importing nothing. `stores` never imports `shop`, so the shop's click &
collect shipping method and its payment methods take these names from here; `loyalty`
reads them through stores.selectors.
"""

# The shipping method code of click & collect (shop/shipping/methods.py, ClickAndCollect).
PICKUP_SHIPPING_CODE = "click-and-collect"

# Oscar payment source types: the part of an order paid with loyalty points, and the
# part paid at the counter when the pickup is handed over.
POINTS_SOURCE_TYPE = "loyalty-points"
AT_PICKUP_SOURCE_TYPE = "pay-at-pickup"
