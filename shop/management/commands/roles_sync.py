"""`manage.py roles_sync`: create the staff roles' groups and add the permissions they lack."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from shop.security.roles import RoleError, RoleSynced, roles_sync


class Command(BaseCommand):
    help = (
        "Create the staff roles (groups) of shop/security/roles.py and add the permissions "
        "they lack; `migrate` does the same. Permissions added by hand are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        try:
            roles_sync(using=options["database"], on_progress=self._report)
        except RoleError as exc:
            raise CommandError(str(exc)) from exc

    def _report(self, result: RoleSynced) -> None:
        if self.verbosity < 1:
            return
        state = "created" if result.group_created else "exists"
        self.stdout.write(
            f"{result.role.group}: group {state}, "
            f"{len(result.permissions_added)} permission(s) added"
        )
        if self.verbosity > 1:
            for name in result.permissions_added:
                self.stdout.write(f"  added: {name}")
        for name in result.permissions_absent:
            self.stdout.write(self.style.WARNING(f"  not defined yet, skipped: {name}"))
