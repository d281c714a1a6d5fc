"""The demo catalogue: categories and products of a small Strasbourg shop.

Plain data, read by `shop.demo.seed`. A product's UPC (a valid EAN-13 in the
fictitious 3770015 company prefix) is its natural key: never change one, or a
re-run would create a second product.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CategorySpec:
    path: tuple[str, ...]
    description: str
    # Gradient of the generated product images (top-left, bottom-right).
    colours: tuple[str, str] = ("#5c6b73", "#253237")


@dataclass(frozen=True)
class ProductSpec:
    upc: str
    title: str
    category: tuple[str, ...]
    price: Decimal
    description: str


GROCERIES = ("Groceries",)
COFFEE = ("Groceries", "Coffee & tea")
BAKERY = ("Groceries", "Bakery")
CHEESE = ("Groceries", "Cheese")
WINE = ("Groceries", "Wine & beer")
SWEETS = ("Groceries", "Sweets & spreads")
HOME = ("Home",)
KITCHEN = ("Home", "Kitchen")
DECORATION = ("Home", "Decoration")
BEAUTY = ("Beauty",)
KIDS = ("Kids",)
GARDEN = ("Garden",)
ELECTRONICS = ("Electronics accessories",)

# Parents before their children.
CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(GROCERIES, "Fresh and regional food from Alsace and beyond."),
    CategorySpec(
        COFFEE, "Beans roasted in Strasbourg, teas and herbal infusions.", ("#8d5b3e", "#3b2418")
    ),
    CategorySpec(BAKERY, "Baked every morning by our partner bakers.", ("#e0a458", "#9c5f1d")),
    CategorySpec(CHEESE, "Alsatian and Vosges cheeses, cut to order.", ("#f2d16b", "#c59b22")),
    CategorySpec(WINE, "Alsace wines, crémant and local craft beer.", ("#8e2c48", "#4a1024")),
    CategorySpec(SWEETS, "Honey, jams, gingerbread and treats.", ("#d9735b", "#8f3420")),
    CategorySpec(HOME, "Everything for the home."),
    CategorySpec(
        KITCHEN,
        "Cookware and tools, from Soufflenheim pottery to sharp knives.",
        ("#4f7c82", "#1f3d42"),
    ),
    CategorySpec(
        DECORATION, "Textiles, glass and gifts with an Alsatian touch.", ("#b48ead", "#6a4766")
    ),
    CategorySpec(BEAUTY, "Gentle soaps and care, mostly made in France.", ("#e8a0b4", "#a8506b")),
    CategorySpec(KIDS, "Toys, books and games for little ones.", ("#67b7d1", "#2a6f8a")),
    CategorySpec(GARDEN, "For balconies, courtyards and allotments.", ("#7fb069", "#3d6b2c")),
    CategorySpec(ELECTRONICS, "Chargers, cables and audio for your phone.", ("#5d6d7e", "#1c2833")),
)


def _product(category: tuple[str, ...], upc: str, title: str, price: str, description: str):
    return ProductSpec(
        upc=upc, title=title, category=category, price=Decimal(price), description=description
    )


PRODUCTS: tuple[ProductSpec, ...] = (
    # Coffee & tea
    _product(
        COFFEE,
        "3770015010017",
        "Espresso beans, Strasbourg roast, 250 g",
        "7.90",
        "A dark roast of Brazilian and Ethiopian arabica, roasted in small batches in the "
        "Meinau. Notes of cocoa and toasted hazelnut; made for espresso and moka pots.",
    ),
    _product(
        COFFEE,
        "3770015010024",
        "Ethiopia Yirgacheffe filter coffee, ground 250 g",
        "8.50",
        "A washed Ethiopian arabica with a bright, floral cup and a hint of bergamot. "
        "Ground medium for filter, V60 or cafetière.",
    ),
    _product(
        COFFEE,
        "3770015010031",
        "Colombia decaf coffee beans, 250 g",
        "8.20",
        "Colombian arabica decaffeinated with water only, no solvents. All the caramel "
        "sweetness, none of the late-night buzz.",
    ),
    _product(
        COFFEE,
        "3770015010048",
        "Vosges herbal infusion, loose 100 g",
        "6.40",
        "Lime blossom, lemon balm and vervain gathered in the Vosges foothills. "
        "Caffeine-free and gently calming; steep for five minutes.",
    ),
    _product(
        COFFEE,
        "3770015010055",
        "Earl Grey with cornflower, loose 100 g",
        "5.90",
        "Ceylon black tea scented with Calabrian bergamot and blue cornflower petals. "
        "Lovely on its own or with a slice of lemon.",
    ),
    _product(
        COFFEE,
        "3770015010062",
        "Japanese sencha green tea, 20 pyramid bags",
        "6.90",
        "A grassy, sweet first-flush sencha from Shizuoka in biodegradable pyramid bags. "
        "Brew at 70 °C for two minutes to keep it from turning bitter.",
    ),
    # Bakery
    _product(
        BAKERY,
        "3770015020016",
        "Kougelhopf, 500 g",
        "9.50",
        "The Alsatian brioche baked in its fluted clay mould, with raisins soaked in kirsch "
        "and a crown of almonds. Perfect with coffee on a Sunday morning.",
    ),
    _product(
        BAKERY,
        "3770015020023",
        "Bretzels, pack of 4",
        "3.20",
        "Soft pretzels with a glossy brown crust and coarse salt, baked by our partner "
        "bakery in the Krutenau. Warm them for two minutes in the oven.",
    ),
    _product(
        BAKERY,
        "3770015020030",
        "Country sourdough loaf, 800 g",
        "4.60",
        "A slow-fermented loaf of wheat and a little rye with a thick, crackling crust. "
        "It keeps for four days wrapped in a tea towel.",
    ),
    _product(
        BAKERY,
        "3770015020047",
        "Butter croissants, pack of 4",
        "4.40",
        "Flaky croissants made with AOP butter from Charentes-Poitou. "
        "Baked this morning; best eaten the same day.",
    ),
    _product(
        BAKERY,
        "3770015020054",
        "Rye and caraway bread, 500 g",
        "3.90",
        "A dense, dark rye loaf seasoned with caraway, the way it is made across the Rhine. "
        "Excellent with Munster or smoked ham.",
    ),
    _product(
        BAKERY,
        "3770015020061",
        "Bredele Christmas biscuits, 300 g",
        "8.90",
        "An assortment of Alsatian bredele: butter spritz, cinnamon stars and anise "
        "springerle. Baked from family recipes and packed in a reusable tin.",
    ),
    # Cheese
    _product(
        CHEESE,
        "3770015030015",
        "Munster AOP, 200 g",
        "4.95",
        "A washed-rind cow's milk cheese from the Munster valley, pungent outside and mild "
        "and milky within. Serve with boiled potatoes and a pinch of cumin.",
    ),
    _product(
        CHEESE,
        "3770015030022",
        "Comté 18 months, 250 g",
        "7.80",
        "Aged for eighteen months in the Jura, with a firm texture, crunchy crystals and "
        "notes of roasted nuts. Cut to order at the counter.",
    ),
    _product(
        CHEESE,
        "3770015030039",
        "Tomme des Vosges, 300 g",
        "6.50",
        "A semi-hard farmhouse tomme from the Hautes-Vosges with a supple, buttery paste. "
        "Melts beautifully over a gratin.",
    ),
    _product(
        CHEESE,
        "3770015030046",
        "Bargkass mountain cheese, 250 g",
        "7.20",
        "A pressed cheese made in summer farms on the Vosges crests, the Alsatian cousin of "
        "gruyère. Fruity, slightly tangy and ideal for a cheese board.",
    ),
    _product(
        CHEESE,
        "3770015030053",
        "Fresh goat's cheese with herbs, 150 g",
        "3.90",
        "A fresh, creamy goat's cheese rolled in chives, parsley and black pepper. "
        "Spread it on toast or crumble it into a salad.",
    ),
    _product(
        CHEESE,
        "3770015030060",
        "Bibeleskaes herb fromage blanc, 250 g",
        "3.60",
        "Fromage blanc whipped with shallots, chives and garlic, as served in winstubs with "
        "sautéed potatoes. Keep refrigerated and eat within five days.",
    ),
    # Wine & beer
    _product(
        WINE,
        "3770015040014",
        "Riesling Alsace AOC 2022, 75 cl",
        "11.90",
        "A dry, mineral Riesling from the slopes around Obernai with notes of lemon and "
        "white peach. Serve at 10 °C with choucroute or fish.",
    ),
    _product(
        WINE,
        "3770015040021",
        "Gewurztraminer Alsace AOC 2021, 75 cl",
        "13.50",
        "An aromatic, off-dry white with lychee, rose and spice. "
        "Pairs well with Munster, curries and foie gras.",
    ),
    _product(
        WINE,
        "3770015040038",
        "Crémant d'Alsace brut, 75 cl",
        "12.90",
        "A traditional-method sparkling wine with fine bubbles and notes of green apple and "
        "brioche. The Alsatian aperitif for every celebration.",
    ),
    _product(
        WINE,
        "3770015040045",
        "Pinot noir Alsace AOC 2022, 75 cl",
        "14.20",
        "Alsace's only red grape, light and silky with aromas of cherry and raspberry. "
        "Serve slightly cool, around 14 °C.",
    ),
    _product(
        WINE,
        "3770015040052",
        "Pinot gris Alsace AOC 2022, 75 cl",
        "12.40",
        "A round, smoky white with hints of pear and honey. "
        "A good match for poultry, mushrooms and baeckeoffe.",
    ),
    _product(
        WINE,
        "3770015040069",
        "Alsace craft lager, 6 x 33 cl",
        "8.90",
        "An unfiltered lager brewed in Strasbourg with Alsatian hops from Kochersberg. "
        "Crisp, lightly bitter and best served very cold.",
    ),
    # Sweets & spreads
    _product(
        SWEETS,
        "3770015050013",
        "Pain d'épices honey gingerbread, 300 g",
        "5.20",
        "A soft honey cake with cinnamon, aniseed and orange peel, made in Gertwiller. "
        "Slice it thinly and serve with tea or foie gras.",
    ),
    _product(
        SWEETS,
        "3770015050020",
        "Quetsch plum jam, 340 g",
        "4.80",
        "Made from Alsatian quetsch plums picked in September, with a hint of cinnamon. "
        "Sixty per cent fruit and cooked in copper pans.",
    ),
    _product(
        SWEETS,
        "3770015050037",
        "Vosges fir honey AOP, 250 g",
        "9.90",
        "A dark, malty honeydew honey gathered in the fir forests of the Vosges. "
        "It stays liquid for months and is lovely in yoghurt.",
    ),
    _product(
        SWEETS,
        "3770015050044",
        "Dark chocolate 70 %, 100 g",
        "3.50",
        "A bar of single-origin Peruvian cocoa with notes of red fruit. "
        "Made with only cocoa, cane sugar and cocoa butter.",
    ),
    _product(
        SWEETS,
        "3770015050051",
        "Hazelnut and cocoa spread, 350 g",
        "5.90",
        "Forty per cent roasted hazelnuts and no palm oil. "
        "Stir before use; the oil rising to the top is perfectly natural.",
    ),
    _product(
        SWEETS,
        "3770015050068",
        "Salted butter caramels, 150 g",
        "4.90",
        "Soft caramels cooked with Breton salted butter and fleur de sel. "
        "Individually wrapped, so they travel well in a bag.",
    ),
    # Kitchen
    _product(
        KITCHEN,
        "3770015060012",
        "Kougelhopf mould, glazed clay 22 cm",
        "34.00",
        "A hand-glazed clay mould from the potters of Soufflenheim. "
        "Season it before the first bake and it will last for generations.",
    ),
    _product(
        KITCHEN,
        "3770015060029",
        "Baeckeoffe terrine, 3 l",
        "49.00",
        "An earthenware terrine with a hand-painted lid, made for the baeckeoffe of meats "
        "and potatoes baked in Riesling. Oven-safe up to 250 °C.",
    ),
    _product(
        KITCHEN,
        "3770015060036",
        "Chef's knife, 20 cm",
        "59.00",
        "A forged stainless steel chef's knife with a full tang and an olive wood handle. "
        "Sharpened by hand; wash it by hand too.",
    ),
    _product(
        KITCHEN,
        "3770015060043",
        "Beech chopping board, 40 x 25 cm",
        "24.90",
        "A thick board of end-grain beech from the Vosges forest with a juice groove. "
        "Oil it once a month to keep it looking new.",
    ),
    _product(
        KITCHEN,
        "3770015060050",
        "French press coffee maker, 1 l",
        "29.90",
        "A borosilicate glass cafetière with a stainless steel filter that makes eight cups. "
        "Every part goes in the dishwasher.",
    ),
    _product(
        KITCHEN,
        "3770015060067",
        "Linen tea towels, set of 2",
        "16.90",
        "Stonewashed linen tea towels in a red Kelsch check. "
        "They grow softer and more absorbent with every wash.",
    ),
    # Decoration
    _product(
        DECORATION,
        "3770015070011",
        "Stork embroidered cushion cover, 45 x 45 cm",
        "22.00",
        "A cotton cushion cover embroidered with the Alsatian stork. "
        "Hidden zip; washable at 30 °C.",
    ),
    _product(
        DECORATION,
        "3770015070028",
        "Fir and orange scented candle, 200 g",
        "18.50",
        "A rapeseed wax candle scented with Vosges fir and sweet orange, "
        "in a reusable glass jar. Burns for about 40 hours.",
    ),
    _product(
        DECORATION,
        "3770015070035",
        "Hand-blown glass bauble, 8 cm",
        "19.90",
        "A Christmas bauble blown by hand in the Northern Vosges, where glass baubles "
        "were invented. Each one is slightly different.",
    ),
    _product(
        DECORATION,
        "3770015070042",
        "Kelsch checked table runner, 150 cm",
        "29.00",
        "A table runner in Kelsch, the traditional blue-and-white checked linen of Alsace. "
        "Woven on old looms in the Val de Villé.",
    ),
    _product(
        DECORATION,
        "3770015070059",
        "Stoneware vase, 20 cm",
        "27.50",
        "A stoneware vase thrown by a Strasbourg potter and finished in a speckled sage glaze. "
        "Watertight, for fresh or dried flowers.",
    ),
    _product(
        DECORATION,
        "3770015070066",
        "Petite France art print, A3",
        "35.00",
        "A risograph print of the half-timbered houses of the Petite France by a local "
        "illustrator. Printed on recycled paper; frame not included.",
    ),
    # Beauty
    _product(
        BEAUTY,
        "3770015080010",
        "Lavender soap bar, 100 g",
        "4.50",
        "A cold-process soap with olive oil and lavender essential oil from Provence. "
        "Gentle enough for face and hands.",
    ),
    _product(
        BEAUTY,
        "3770015080027",
        "Shea and honey hand cream, 50 ml",
        "8.90",
        "A rich hand cream with shea butter and Alsatian honey that soaks in quickly. "
        "Ideal for Strasbourg winters.",
    ),
    _product(
        BEAUTY,
        "3770015080034",
        "Solid shampoo for normal hair, 80 g",
        "9.50",
        "A plastic-free shampoo bar that lasts as long as two bottles. "
        "Lather between wet hands and rinse well.",
    ),
    _product(
        BEAUTY,
        "3770015080041",
        "Beeswax lip balm, 4.5 g",
        "3.90",
        "A nourishing balm of beeswax, sunflower oil and a touch of vanilla. "
        "Made in a small workshop in the Bas-Rhin.",
    ),
    _product(
        BEAUTY,
        "3770015080058",
        "Verbena shower gel, 250 ml",
        "6.90",
        "A fresh, lemony shower gel with a mild coconut-based cleanser. "
        "Ninety-eight per cent ingredients of natural origin.",
    ),
    _product(
        BEAUTY,
        "3770015080065",
        "Bamboo toothbrushes, pack of 2",
        "5.50",
        "Toothbrushes with a compostable bamboo handle and soft bristles. "
        "One for you and one for the guest room.",
    ),
    # Kids
    _product(
        KIDS,
        "3770015090019",
        "Wooden stacking rings",
        "19.90",
        "Seven beech rings in soft colours to stack on a wooden peg. "
        "Water-based paints; for children from 12 months.",
    ),
    _product(
        KIDS,
        "3770015090026",
        "Plush stork, 30 cm",
        "24.90",
        "A cuddly white stork with red legs, the bird that brings good luck to Alsatian "
        "homes. Machine washable at 30 °C.",
    ),
    _product(
        KIDS,
        "3770015090033",
        "Strasbourg colouring book",
        "7.50",
        "Forty pages of Strasbourg to colour, from the cathedral to the Christmas market. "
        "For ages 5 and up.",
    ),
    _product(
        KIDS,
        "3770015090040",
        "Petite France jigsaw puzzle, 100 pieces",
        "14.90",
        "A jigsaw puzzle of the canals and houses of the Petite France, with extra-thick "
        "pieces. For ages 6 and up.",
    ),
    _product(
        KIDS,
        "3770015090057",
        "Beeswax crayons, 12 colours",
        "12.50",
        "Chunky crayons of pure beeswax that glide easily and do not break. "
        "Safe for small hands from 3 years.",
    ),
    _product(
        KIDS,
        "3770015090064",
        "Wooden balance bike, 2-5 years",
        "89.00",
        "A birch plywood balance bike with an adjustable saddle and puncture-proof tyres. "
        "The gentlest way to learn to ride.",
    ),
    # Garden
    _product(
        GARDEN,
        "3770015100015",
        "Kitchen herb seed collection, 6 packets",
        "11.90",
        "Organic seeds of basil, chives, parsley, coriander, dill and thyme. "
        "Sow on a sunny balcony from April.",
    ),
    _product(
        GARDEN,
        "3770015100022",
        "Terracotta pot, 25 cm",
        "12.90",
        "A frost-resistant terracotta pot with a drainage hole. "
        "Ages into a lovely patina after a season outdoors.",
    ),
    _product(
        GARDEN,
        "3770015100039",
        "Gardening gloves, size 8",
        "9.90",
        "Breathable cotton gloves with a latex-coated palm for a good grip. "
        "Sturdy enough for roses, light enough for seedlings.",
    ),
    _product(
        GARDEN,
        "3770015100046",
        "Galvanised watering can, 5 l",
        "19.90",
        "A galvanised steel watering can with a removable brass rose. "
        "Built to last for decades on the balcony.",
    ),
    _product(
        GARDEN,
        "3770015100053",
        "Organic potting compost, 20 l",
        "8.90",
        "A peat-free compost of green waste and coconut fibre, approved for organic growing. "
        "Suitable for pots, window boxes and raised beds.",
    ),
    _product(
        GARDEN,
        "3770015100060",
        "Wooden bird feeder",
        "21.90",
        "A larch bird feeder with a slate roof to hang in a tree or on a balcony. "
        "Fill it with sunflower seeds from November to March.",
    ),
    # Electronics accessories
    _product(
        ELECTRONICS,
        "3770015110014",
        "USB-C charger, 30 W",
        "24.90",
        "A compact USB-C Power Delivery charger that fast-charges most phones and tablets. "
        "Foldable pins; cable sold separately.",
    ),
    _product(
        ELECTRONICS,
        "3770015110021",
        "Braided USB-C cable, 1 m",
        "12.90",
        "A nylon-braided USB-C to USB-C cable for charging at up to 60 W and data transfer. "
        "Tested for 10,000 bends.",
    ),
    _product(
        ELECTRONICS,
        "3770015110038",
        "Power bank, 10,000 mAh",
        "29.90",
        "A slim power bank that charges a phone about twice, with USB-C and USB-A ports. "
        "Allowed in hand luggage.",
    ),
    _product(
        ELECTRONICS,
        "3770015110045",
        "Wireless earbuds",
        "49.00",
        "Bluetooth 5.3 earbuds with a charging case, six hours of play and splash "
        "resistance. The case charges over USB-C.",
    ),
    _product(
        ELECTRONICS,
        "3770015110052",
        "Phone bike mount",
        "19.90",
        "A silicone mount that holds any phone from 4.7 to 6.8 inches on a handlebar. "
        "Fits in seconds, without tools.",
    ),
    _product(
        ELECTRONICS,
        "3770015110069",
        "Splash-proof Bluetooth speaker",
        "39.90",
        "A pocket-sized speaker with surprisingly full sound and twelve hours of battery. "
        "IPX5 splash-proof, for the kitchen or the garden.",
    ),
)
