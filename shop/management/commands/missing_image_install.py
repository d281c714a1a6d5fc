"""`manage.py missing_image_install`: Oscar's missing-image placeholder into MEDIA_ROOT."""

from django.conf import settings
from django.core.management.base import BaseCommand

from shop.catalogue.missing_image import missing_image_install


class Command(BaseCommand):
    help = (
        "Copy Oscar's 'missing image' placeholder into MEDIA_ROOT unless it is there. The web "
        "service runs it before serving, so first requests never race to create it."
    )

    def handle(self, *args, **options):
        written = missing_image_install()
        if options["verbosity"] >= 1:
            state = "copied" if written else "already present"
            name, media = settings.OSCAR_MISSING_IMAGE_URL, settings.MEDIA_ROOT
            self.stdout.write(f"{name} in {media}: {state}")
