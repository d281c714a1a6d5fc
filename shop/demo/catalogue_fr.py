"""French text of the demo catalogue (README "Languages"), keyed like shop.demo.catalogue:
categories by path, products by UPC. Each entry is (name or title, description)."""

from .catalogue import (
    BAKERY,
    BEAUTY,
    CHEESE,
    COFFEE,
    DECORATION,
    ELECTRONICS,
    GARDEN,
    GROCERIES,
    HOME,
    KIDS,
    KITCHEN,
    SWEETS,
    WINE,
)

CATEGORIES_FR: dict[tuple[str, ...], tuple[str, str]] = {
    GROCERIES: ("Épicerie", "Des produits frais et régionaux d'Alsace et d'ailleurs."),
    COFFEE: ("Café et thé", "Cafés torréfiés à Strasbourg, thés et infusions."),
    BAKERY: ("Boulangerie", "Cuit chaque matin par nos boulangers partenaires."),
    CHEESE: ("Fromages", "Fromages d'Alsace et des Vosges, coupés à la demande."),
    WINE: ("Vins et bières", "Vins d'Alsace, crémant et bières artisanales locales."),
    SWEETS: ("Douceurs et pâtes à tartiner", "Miel, confitures, pain d'épices et gourmandises."),
    HOME: ("Maison", "Tout pour la maison."),
    KITCHEN: (
        "Cuisine",
        "Ustensiles et batterie de cuisine, de la poterie de Soufflenheim aux couteaux affûtés.",
    ),
    DECORATION: ("Décoration", "Textiles, verre et cadeaux à la touche alsacienne."),
    BEAUTY: ("Beauté", "Savons et soins doux, fabriqués surtout en France."),
    KIDS: ("Enfants", "Jouets, livres et jeux pour les petits."),
    GARDEN: ("Jardin", "Pour balcons, cours et jardins partagés."),
    ELECTRONICS: ("Accessoires électroniques", "Chargeurs, câbles et audio pour votre téléphone."),
}

PRODUCTS_FR: dict[str, tuple[str, str]] = {
    "3770015010017": (
        "Café en grains espresso, torréfaction Strasbourg, 250 g",
        "Un mélange d'arabicas du Brésil et d'Éthiopie torréfié foncé, en petites quantités, à "
        "la Meinau. Notes de cacao et de noisette grillée ; pour l'espresso et la cafetière "
        "italienne.",
    ),
    "3770015010024": (
        "Café filtre Éthiopie Yirgacheffe, moulu 250 g",
        "Un arabica éthiopien lavé, vif et floral, avec une pointe de bergamote. Mouture "
        "moyenne pour filtre, V60 ou cafetière à piston.",
    ),
    "3770015010031": (
        "Café en grains décaféiné Colombie, 250 g",
        "Arabica colombien décaféiné à l'eau seule, sans solvant. Toute la douceur caramel, "
        "sans l'éveil tardif.",
    ),
    "3770015010048": (
        "Infusion des Vosges, vrac 100 g",
        "Tilleul, mélisse et verveine cueillis au pied des Vosges. Sans caféine et "
        "apaisante ; laisser infuser cinq minutes.",
    ),
    "3770015010055": (
        "Earl Grey au bleuet, vrac 100 g",
        "Thé noir de Ceylan parfumé à la bergamote de Calabre, avec des pétales de bleuet. "
        "Délicieux nature ou avec une tranche de citron.",
    ),
    "3770015010062": (
        "Thé vert sencha japonais, 20 sachets pyramide",
        "Un sencha de première récolte de Shizuoka, herbacé et doux, en sachets "
        "biodégradables. Infuser à 70 °C deux minutes pour éviter l'amertume.",
    ),
    "3770015020016": (
        "Kougelhopf, 500 g",
        "La brioche alsacienne cuite dans son moule en terre cannelé, aux raisins macérés "
        "dans le kirsch et couronnée d'amandes. Parfaite avec le café du dimanche matin.",
    ),
    "3770015020023": (
        "Bretzels, lot de 4",
        "Bretzels moelleux à la croûte brune et brillante et au gros sel, cuits par notre "
        "boulangerie partenaire de la Krutenau. Réchauffer deux minutes au four.",
    ),
    "3770015020030": (
        "Pain de campagne au levain, 800 g",
        "Un pain à fermentation lente, de blé et d'un peu de seigle, à la croûte épaisse et "
        "craquante. Il se garde quatre jours dans un torchon.",
    ),
    "3770015020047": (
        "Croissants au beurre, lot de 4",
        "Croissants feuilletés au beurre AOP Charentes-Poitou. Cuits ce matin ; à déguster "
        "le jour même.",
    ),
    "3770015020054": (
        "Pain de seigle au cumin, 500 g",
        "Un pain de seigle dense et sombre, parfumé au carvi, comme outre-Rhin. Excellent "
        "avec le munster ou le jambon fumé.",
    ),
    "3770015020061": (
        "Bredele de Noël, 300 g",
        "Un assortiment de bredele alsaciens : spritz au beurre, étoiles à la cannelle et "
        "anisbredele. Recettes de famille, en boîte métal réutilisable.",
    ),
    "3770015030015": (
        "Munster AOP, 200 g",
        "Fromage de vache à croûte lavée de la vallée de Munster, puissant à l'extérieur, "
        "doux et lacté à cœur. À servir avec des pommes de terre et une pincée de cumin.",
    ),
    "3770015030022": (
        "Comté 18 mois, 250 g",
        "Affiné dix-huit mois dans le Jura : pâte ferme, cristaux croquants et notes de "
        "fruits secs grillés. Coupé à la demande.",
    ),
    "3770015030039": (
        "Tomme des Vosges, 300 g",
        "Une tomme fermière à pâte mi-dure des Hautes-Vosges, souple et beurrée. Fond à "
        "merveille sur un gratin.",
    ),
    "3770015030046": (
        "Bargkass, fromage de montagne, 250 g",
        "Un fromage à pâte pressée fabriqué l'été dans les fermes des crêtes vosgiennes, "
        "cousin alsacien du gruyère. Fruité, légèrement acidulé, idéal sur un plateau.",
    ),
    "3770015030053": (
        "Chèvre frais aux herbes, 150 g",
        "Un chèvre frais et crémeux roulé dans la ciboulette, le persil et le poivre noir. "
        "À tartiner ou à émietter sur une salade.",
    ),
    "3770015030060": (
        "Bibeleskaes, fromage blanc aux herbes, 250 g",
        "Fromage blanc battu aux échalotes, à la ciboulette et à l'ail, comme dans les "
        "winstubs avec des pommes sautées. À garder au frais, cinq jours au plus.",
    ),
    "3770015040014": (
        "Riesling Alsace AOC 2022, 75 cl",
        "Un riesling sec et minéral des coteaux d'Obernai, aux notes de citron et de pêche "
        "blanche. Servir à 10 °C avec une choucroute ou un poisson.",
    ),
    "3770015040021": (
        "Gewurztraminer Alsace AOC 2021, 75 cl",
        "Un blanc aromatique, demi-sec, aux notes de litchi, de rose et d'épices. Idéal avec "
        "le munster, les currys et le foie gras.",
    ),
    "3770015040038": (
        "Crémant d'Alsace brut, 75 cl",
        "Un effervescent de méthode traditionnelle aux bulles fines, notes de pomme verte et "
        "de brioche. L'apéritif alsacien de toutes les fêtes.",
    ),
    "3770015040045": (
        "Pinot noir Alsace AOC 2022, 75 cl",
        "Le seul cépage rouge d'Alsace, léger et soyeux, aux arômes de cerise et de "
        "framboise. Servir frais, vers 14 °C.",
    ),
    "3770015040052": (
        "Pinot gris Alsace AOC 2022, 75 cl",
        "Un blanc rond et fumé, aux notes de poire et de miel. Parfait avec la volaille, les "
        "champignons et le baeckeoffe.",
    ),
    "3770015040069": (
        "Bière blonde artisanale d'Alsace, 6 x 33 cl",
        "Une lager non filtrée brassée à Strasbourg avec du houblon alsacien du Kochersberg. "
        "Vive, légèrement amère, à servir bien fraîche.",
    ),
    "3770015050013": (
        "Pain d'épices au miel, 300 g",
        "Un gâteau moelleux au miel, à la cannelle, à l'anis et aux zestes d'orange, "
        "fabriqué à Gertwiller. En fines tranches avec le thé ou le foie gras.",
    ),
    "3770015050020": (
        "Confiture de quetsches, 340 g",
        "Des quetsches d'Alsace cueillies en septembre, avec une pointe de cannelle. Soixante "
        "pour cent de fruits, cuite en chaudron de cuivre.",
    ),
    "3770015050037": (
        "Miel de sapin des Vosges AOP, 250 g",
        "Un miellat sombre et malté récolté dans les sapinières des Vosges. Il reste liquide "
        "des mois et se marie bien au yaourt.",
    ),
    "3770015050044": (
        "Chocolat noir 70 %, 100 g",
        "Une tablette de cacao pure origine Pérou, aux notes de fruits rouges. Seulement du "
        "cacao, du sucre de canne et du beurre de cacao.",
    ),
    "3770015050051": (
        "Pâte à tartiner noisette et cacao, 350 g",
        "Quarante pour cent de noisettes grillées et pas d'huile de palme. Remuer avant "
        "usage : l'huile qui remonte est tout à fait naturelle.",
    ),
    "3770015050068": (
        "Caramels au beurre salé, 150 g",
        "Des caramels tendres au beurre salé breton et à la fleur de sel. Emballés un par "
        "un, ils voyagent bien dans un sac.",
    ),
    "3770015060012": (
        "Moule à kougelhopf, terre vernissée 22 cm",
        "Un moule en terre vernissé à la main par les potiers de Soufflenheim. Culottez-le "
        "avant la première cuisson et il durera des générations.",
    ),
    "3770015060029": (
        "Terrine à baeckeoffe, 3 l",
        "Une terrine en terre cuite au couvercle peint à la main, pour le baeckeoffe de "
        "viandes et pommes de terre au riesling. Va au four jusqu'à 250 °C.",
    ),
    "3770015060036": (
        "Couteau de chef, 20 cm",
        "Un couteau de chef forgé en inox, soie pleine et manche en olivier. Affûté à la "
        "main ; à laver à la main aussi.",
    ),
    "3770015060043": (
        "Planche à découper en hêtre, 40 x 25 cm",
        "Une planche épaisse en bois de bout de hêtre des Vosges, avec rigole. À huiler une "
        "fois par mois pour la garder comme neuve.",
    ),
    "3770015060050": (
        "Cafetière à piston, 1 l",
        "Une cafetière en verre borosilicate avec filtre inox, pour huit tasses. Toutes les "
        "pièces vont au lave-vaisselle.",
    ),
    "3770015060067": (
        "Torchons en lin, lot de 2",
        "Torchons en lin lavé à carreaux Kelsch rouges. Ils deviennent plus doux et plus "
        "absorbants à chaque lavage.",
    ),
    "3770015070011": (
        "Housse de coussin brodée cigogne, 45 x 45 cm",
        "Une housse de coussin en coton brodée de la cigogne alsacienne. Fermeture cachée ; "
        "lavable à 30 °C.",
    ),
    "3770015070028": (
        "Bougie parfumée sapin et orange, 200 g",
        "Une bougie en cire de colza parfumée au sapin des Vosges et à l'orange douce, dans "
        "un pot en verre réutilisable. Environ 40 heures de combustion.",
    ),
    "3770015070035": (
        "Boule de Noël en verre soufflé, 8 cm",
        "Une boule de Noël soufflée à la bouche dans les Vosges du Nord, où elle a été "
        "inventée. Chacune est un peu différente.",
    ),
    "3770015070042": (
        "Chemin de table en Kelsch, 150 cm",
        "Un chemin de table en Kelsch, le lin traditionnel d'Alsace à carreaux bleus et "
        "blancs. Tissé sur d'anciens métiers au Val de Villé.",
    ),
    "3770015070059": (
        "Vase en grès, 20 cm",
        "Un vase en grès tourné par un potier strasbourgeois, émail moucheté vert sauge. "
        "Étanche, pour fleurs fraîches ou séchées.",
    ),
    "3770015070066": (
        "Affiche Petite France, A3",
        "Une risographie des maisons à colombages de la Petite France par un illustrateur "
        "local. Imprimée sur papier recyclé ; cadre non fourni.",
    ),
    "3770015080010": (
        "Savon à la lavande, 100 g",
        "Un savon saponifié à froid à l'huile d'olive et à l'huile essentielle de lavande de "
        "Provence. Assez doux pour le visage et les mains.",
    ),
    "3770015080027": (
        "Crème mains karité et miel, 50 ml",
        "Une crème riche au beurre de karité et au miel d'Alsace qui pénètre vite. Idéale "
        "pour les hivers strasbourgeois.",
    ),
    "3770015080034": (
        "Shampooing solide cheveux normaux, 80 g",
        "Un shampooing sans plastique qui dure autant que deux flacons. Faire mousser entre "
        "les mains mouillées et bien rincer.",
    ),
    "3770015080041": (
        "Baume à lèvres à la cire d'abeille, 4,5 g",
        "Un baume nourrissant à la cire d'abeille, à l'huile de tournesol et à une touche de "
        "vanille. Fabriqué dans un petit atelier du Bas-Rhin.",
    ),
    "3770015080058": (
        "Gel douche à la verveine, 250 ml",
        "Un gel douche frais et citronné, à base douce de coco. Quatre-vingt-dix-huit pour "
        "cent d'ingrédients d'origine naturelle.",
    ),
    "3770015080065": (
        "Brosses à dents en bambou, lot de 2",
        "Des brosses à dents au manche en bambou compostable et aux poils souples. Une pour "
        "vous, une pour la chambre d'amis.",
    ),
    "3770015090019": (
        "Anneaux à empiler en bois",
        "Sept anneaux en hêtre aux couleurs douces à empiler sur un piquet en bois. "
        "Peintures à l'eau ; dès 12 mois.",
    ),
    "3770015090026": (
        "Cigogne en peluche, 30 cm",
        "Une cigogne blanche toute douce aux pattes rouges, l'oiseau porte-bonheur des "
        "maisons alsaciennes. Lavable en machine à 30 °C.",
    ),
    "3770015090033": (
        "Cahier de coloriage Strasbourg",
        "Quarante pages de Strasbourg à colorier, de la cathédrale au marché de Noël. Dès 5 ans.",
    ),
    "3770015090040": (
        "Puzzle Petite France, 100 pièces",
        "Un puzzle des canaux et des maisons de la Petite France, aux pièces extra-épaisses. "
        "Dès 6 ans.",
    ),
    "3770015090057": (
        "Crayons à la cire d'abeille, 12 couleurs",
        "De gros crayons en pure cire d'abeille qui glissent facilement et ne cassent pas. "
        "Adaptés aux petites mains dès 3 ans.",
    ),
    "3770015090064": (
        "Draisienne en bois, 2-5 ans",
        "Une draisienne en contreplaqué de bouleau, selle réglable et pneus increvables. La "
        "façon la plus douce d'apprendre à rouler.",
    ),
    "3770015100015": (
        "Collection de graines d'aromates, 6 sachets",
        "Graines bio de basilic, ciboulette, persil, coriandre, aneth et thym. À semer sur un "
        "balcon ensoleillé dès avril.",
    ),
    "3770015100022": (
        "Pot en terre cuite, 25 cm",
        "Un pot en terre cuite résistant au gel, percé pour le drainage. Il prend une belle "
        "patine après une saison dehors.",
    ),
    "3770015100039": (
        "Gants de jardinage, taille 8",
        "Des gants en coton respirant, paume enduite de latex pour une bonne prise. Assez "
        "robustes pour les rosiers, assez légers pour les semis.",
    ),
    "3770015100046": (
        "Arrosoir galvanisé, 5 l",
        "Un arrosoir en acier galvanisé avec pomme en laiton amovible. Fait pour durer des "
        "décennies sur le balcon.",
    ),
    "3770015100053": (
        "Terreau bio, 20 l",
        "Un terreau sans tourbe, de déchets verts et de fibre de coco, utilisable en "
        "agriculture biologique. Pour pots, jardinières et carrés potagers.",
    ),
    "3770015100060": (
        "Mangeoire à oiseaux en bois",
        "Une mangeoire en mélèze au toit d'ardoise, à suspendre dans un arbre ou au balcon. "
        "À remplir de graines de tournesol de novembre à mars.",
    ),
    "3770015110014": (
        "Chargeur USB-C, 30 W",
        "Un chargeur USB-C Power Delivery compact qui charge vite la plupart des téléphones "
        "et tablettes. Fiches repliables ; câble vendu séparément.",
    ),
    "3770015110021": (
        "Câble USB-C tressé, 1 m",
        "Un câble USB-C vers USB-C tressé nylon, pour charger jusqu'à 60 W et transférer des "
        "données. Testé pour 10 000 pliages.",
    ),
    "3770015110038": (
        "Batterie externe, 10 000 mAh",
        "Une batterie fine qui recharge un téléphone environ deux fois, avec ports USB-C et "
        "USB-A. Autorisée en bagage cabine.",
    ),
    "3770015110045": (
        "Écouteurs sans fil",
        "Des écouteurs Bluetooth 5.3 avec boîtier de charge, six heures d'écoute et "
        "résistance aux éclaboussures. Le boîtier se charge en USB-C.",
    ),
    "3770015110052": (
        "Support de téléphone pour vélo",
        "Un support en silicone qui tient tout téléphone de 4,7 à 6,8 pouces sur un guidon. "
        "Se pose en quelques secondes, sans outil.",
    ),
    "3770015110069": (
        "Enceinte Bluetooth étanche aux éclaboussures",
        "Une enceinte de poche au son étonnamment riche et à douze heures d'autonomie. "
        "Protégée IPX5, pour la cuisine ou le jardin.",
    ),
}
