"""Search documents and title order of products, indexed, on PostgreSQL only (README
"Search"; shop/search/selectors.py reads them; bench/README.md, "pages_at_size.py").

Two stored generated columns, `search_en` and `search_fr`: the product's text as each
language shows it (its own column, else the other language's, as the shop's fallbacks do),
title and UPC weighted A, description B, and the title's words unstemmed (`simple`) at D so
a word being typed matches as a prefix. PostgreSQL keeps them up to date on every write,
including bulk ones; each has a GIN index. Two expression indexes give the listings' title
order per language. Oscar's Product model does not know the columns: Django never writes
them. SQLite (the embedded default) gets none of this and searches with LIKE.
"""

from django.db import migrations


def _shown(field: str, first: str, second: str) -> str:
    return f"COALESCE(NULLIF({field}_{first}, ''), NULLIF({field}_{second}, ''), '')"


def _document(config: str, first: str, second: str) -> str:
    title, description = _shown("title", first, second), _shown("description", first, second)
    return (
        f"setweight(to_tsvector('{config}'::regconfig, {title}), 'A')"
        " || setweight(to_tsvector('simple'::regconfig, COALESCE(upc, '')), 'A')"
        f" || setweight(to_tsvector('{config}'::regconfig, {description}), 'B')"
        f" || setweight(to_tsvector('simple'::regconfig, {title}), 'D')"
    )


LANGUAGES = {"en": ("english", "en", "fr"), "fr": ("french", "fr", "en")}

FORWARD = []
BACKWARD = []
for code, (config, first, second) in LANGUAGES.items():
    FORWARD += [
        f"ALTER TABLE catalogue_product ADD COLUMN search_{code} tsvector"
        f" GENERATED ALWAYS AS ({_document(config, first, second)}) STORED",
        # fastupdate off: a row is indexed when written, not left in a pending list that
        # makes the planner read the whole table until the next VACUUM (catalogue writes
        # are rare; a bulk import would otherwise slow every search until then).
        f"CREATE INDEX catalogue_product_search_{code} ON catalogue_product"
        f" USING gin (search_{code}) WITH (fastupdate = off)",
        # The exact expression of shop.search.selectors.shown_text("title") in this language,
        # so the planner reads the listing's page in order instead of sorting every product.
        f"CREATE INDEX catalogue_product_title_{code} ON catalogue_product"
        f' ((COALESCE(NULLIF("catalogue_product"."title_{first}", \'\'),'
        f' NULLIF("catalogue_product"."title_{second}", \'\'), \'\')), id)'
        " WHERE is_public AND parent_id IS NULL",
    ]
    BACKWARD += [
        f"DROP INDEX IF EXISTS catalogue_product_title_{code}",
        f"DROP INDEX IF EXISTS catalogue_product_search_{code}",
        f"ALTER TABLE catalogue_product DROP COLUMN IF EXISTS search_{code}",
    ]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0033_catalogue_text_per_language"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
