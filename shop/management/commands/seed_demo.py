"""`manage.py seed_demo`: a demo shop in Strasbourg, added to whatever the database holds."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from shop.demo import loyalty as demo_loyalty
from shop.demo import marketing as demo_marketing
from shop.demo import seed
from shop.demo import stores as demo_stores
from shop.demo.people import Role
from shop.sites import site_domain


class Command(BaseCommand):
    help = (
        "Add the Solomo demo data: a Strasbourg catalogue with generated images, the online "
        "warehouse and four shops with stock, and demo logins. Safe to run again: existing "
        "rows are never changed, only what is missing is added. -v 0 prints only errors. "
        "Refused under production settings unless --allow-production, which adds the "
        "catalogue and stores only: never an account (their passwords are public)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Under production settings, add the demo catalogue and stores, no accounts.",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        production = getattr(settings, "IS_PRODUCTION", False)
        if production and not options["allow_production"]:
            raise CommandError(
                "seed_demo creates accounts with the public demo passwords and is refused "
                "under production settings. Use --allow-production to add only the demo "
                "catalogue and stores, and `python manage.py createsuperuser` for your own "
                "account."
            )
        self._require_migrated_database()
        started = time.monotonic()
        try:
            self._report_site(seed.site_seed())
            self._report("Countries", seed.countries_seed())
            categories_tally, categories = seed.categories_seed()
            self._report("Categories", categories_tally)
            # An Oscar ProductClass (shop.demo.seed is not type-checked yet).
            product_class: Any
            product_class, created = seed.product_class_seed()
            self._say(f"Product class: {product_class.name} ({'created' if created else 'exists'})")
            products_tally = self._seed_products(categories, product_class)
            self._report("Products", products_tally)
            self._report("French catalogue text", seed.catalogue_french_seed(categories=categories))
            partners_tally, partners = seed.partners_seed()
            self._report("Partners", partners_tally)
            stock_tally = seed.stockrecords_seed(partners=partners)
            self._report("Stock records", stock_tally)
            stores_tally = demo_stores.stores_seed(partners=partners)
            self._say(f"Stores: {stores_tally.created} created, {stores_tally.existing} existing")
            for reason in stores_tally.skipped or []:
                self._say(self.style.WARNING(f"  skipped: {reason}"))
            if production:
                # Accounts, and what hangs on them (orders, points), stay out of production.
                logins = []
            else:
                logins = seed.users_seed(partners=partners)
                pickups = demo_stores.pickups_seed()
                self._say(f"Click & collect orders: {pickups} created")
                loyalty_result = demo_loyalty.loyalty_seed()
                self._say(
                    f"Loyalty: {loyalty_result.members} members enrolled with history, "
                    f"{loyalty_result.orders} past orders, {loyalty_result.rewards} rewards "
                    "created"
                )
                if loyalty_result.skipped:
                    self._say(self.style.WARNING(f"  skipped: {loyalty_result.skipped}"))
                marketing = demo_marketing.marketing_seed()
                self._say(
                    f"Marketing: {marketing.customers} synthetic customers, "
                    f"{marketing.segments} segments created, "
                    f"recommendations for {marketing.recommended_members} members"
                    + (f", campaign {marketing.campaign!r} sent" if marketing.campaign else "")
                )
                if marketing.figures:
                    figures = marketing.figures
                    self._say(
                        f"  campaign figures: {figures['audience']} in the audience, "
                        f"{figures['control']} in the control group, "
                        f"{figures['members_messaged']} messaged, {figures['opened']} opened, "
                        f"{figures['clicked']} clicked"
                    )
        except seed.SeedError as exc:
            raise CommandError(str(exc)) from exc
        users_created = sum(login.created for login in logins)
        self._say(f"Users: {users_created} created, {len(logins) - users_created} existing")

        self._say(
            self.style.SUCCESS(
                f"Demo data ready in {time.monotonic() - started:.1f} s: "
                f"{products_tally.total} products in {categories_tally.total} categories, "
                f"{partners_tally.total} partners, {stock_tally.total} stock records, "
                f"{len(logins)} users."
            )
        )
        if production:
            self._say(
                "No accounts created (production settings): create yours with "
                "`python manage.py createsuperuser`."
            )
        else:
            self._print_logins(logins)

    def _require_migrated_database(self) -> None:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                "The database has unapplied migrations; run `python manage.py migrate` first."
            )

    def _seed_products(self, categories, product_class) -> seed.Tally:
        def on_progress(done: int, total: int) -> None:
            self._say(f"  products {done}/{total}")

        try:
            return seed.products_seed(
                categories=categories, product_class=product_class, on_progress=on_progress
            )
        except OSError as exc:
            raise CommandError(
                f"Could not write product images under MEDIA_ROOT ({settings.MEDIA_ROOT}): {exc}"
            ) from exc

    def _say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    def _report(self, section: str, tally: seed.Tally) -> None:
        self._say(f"{section}: {tally.created} created, {tally.existing} existing")
        for reason in tally.skipped:
            self._say(self.style.WARNING(f"  skipped: {reason}"))

    def _report_site(self, renamed: bool) -> None:
        if renamed:
            self._say(f"Site: set to {seed.SITE_NAME} ({site_domain()})")
        else:
            self._say("Site: already configured, left as it is")

    def _print_logins(self, logins: list[seed.DemoLogin]) -> None:
        if self.verbosity < 1:
            return
        shop_login, dashboard = reverse("customer:login"), reverse("dashboard:index")
        rows = [("Email", "Password", "Role", "Account", "Sign in at")]
        for login in logins:
            spec = login.spec
            role = f"{spec.role} ({spec.partner_code})" if spec.partner_code else str(spec.role)
            rows.append(
                (
                    spec.email,
                    spec.password if login.demo_password_works else "(not the demo password)",
                    role,
                    "created" if login.created else "exists",
                    shop_login if spec.role == Role.SHOPPER else dashboard,
                )
            )
        widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins (local demo only)"))
        for index, row in enumerate(rows):
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            line = "  ".join(cells).rstrip()
            self.stdout.write(self.style.MIGRATE_LABEL(line) if index == 0 else line)
