"""The Stock page's form data, shared by the tests that post it."""


def stock_form_data(item, record, num_in_stock: int) -> dict:
    return {
        "title_en": item.title,
        "upc": item.upc or "",
        "slug": item.slug,
        "is_public": "on",
        "structure": "standalone",
        "stockrecords-TOTAL_FORMS": "1",
        "stockrecords-INITIAL_FORMS": "1",
        "stockrecords-MIN_NUM_FORMS": "0",
        "stockrecords-MAX_NUM_FORMS": "1000",
        "stockrecords-0-id": str(record.pk),
        "stockrecords-0-partner": str(record.partner_id),
        "stockrecords-0-partner_sku": record.partner_sku,
        "stockrecords-0-price_currency": "EUR",
        "stockrecords-0-price": "9.99",
        "stockrecords-0-num_in_stock": str(num_in_stock),
        "productcategory_set-TOTAL_FORMS": "1",
        "productcategory_set-INITIAL_FORMS": "1",
        "productcategory_set-0-id": str(item.productcategory_set.get().pk),
        "productcategory_set-0-category": str(item.categories.get().pk),
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "primary_recommendations-TOTAL_FORMS": "0",
        "primary_recommendations-INITIAL_FORMS": "0",
    }
