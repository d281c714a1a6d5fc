"""Catalogue text stored per language (django-modeltranslation, README "Languages").

Each field gets a column per language (`title_en`, `title_fr`, ...). Reading `title` gives the
active language's value, or English when that one is empty, so a product entered in English
only shows its English title on /fr/. Slugs, codes and UPCs stay single.
"""

from modeltranslation.translator import TranslationOptions, register
from oscar.core.loading import get_model

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")


@register(Product)
class ProductTranslationOptions(TranslationOptions):
    fields = ("title", "description")
    required_languages = ("en",)


@register(Category)
class CategoryTranslationOptions(TranslationOptions):
    fields = ("name", "description")
    required_languages = ("en",)


TRANSLATED_FIELDS = {
    Product: ProductTranslationOptions.fields,
    Category: CategoryTranslationOptions.fields,
}


def original_columns_keep_english(sender, instance, **kwargs) -> None:
    """Keep the untranslated columns (`title`, `name`, ...) equal to the English text, whatever
    language the object was saved in, for anything reading the table without the translation
    layer (raw SQL, reports)."""
    for field in TRANSLATED_FIELDS[sender]:
        english = getattr(instance, f"{field}_en")
        if english is not None:
            instance.__dict__[field] = english
