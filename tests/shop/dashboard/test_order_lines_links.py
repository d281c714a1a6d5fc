"""README "Roles and permissions": the dashboard's order page links a line's product and
partner to their dashboard pages only for a reader who may open them; support sees their
names as text, and every link a reader is shown opens."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.shop.dashboard.world import world_create

pytestmark = pytest.mark.django_db

# A product's or a partner's own page (the menu's lists are not the lines' links).
LINKS = re.compile(r'href="(/dashboard/(?:catalogue/products|partners)/\d+/)"')


@pytest.mark.parametrize("role", ["superuser", "support"])
def test_the_order_lines_link_only_to_pages_the_reader_may_open(role):
    world = world_create()
    order = world.mixed_order
    client = Client()
    client.force_login(world.cast.users[role])

    page = client.get(reverse("dashboard:order-detail", kwargs={"number": order.number}))
    html = page.content.decode()
    links = sorted(set(LINKS.findall(html)))
    opened = {link: client.get(link).status_code for link in links}

    assert page.status_code == 200
    lines = list(order.lines.all())
    expected = (
        sorted(
            [reverse("dashboard:catalogue-product", kwargs={"pk": li.product_id}) for li in lines]
            + [reverse("dashboard:partner-manage", kwargs={"pk": li.partner_id}) for li in lines]
        )
        if role == "superuser"
        else []
    )
    assert len(lines) == 2
    assert links == expected
    assert opened == dict.fromkeys(expected, 200)
    # Support still reads which product each line is and which store supplies it.
    assert all(f">{li.title}<" in html or f"{li.title}\n" in html for li in lines)
    assert all(li.partner_name in html for li in lines)
