"""The installable app (README "Install on a phone (PWA)"): web app manifest, icons,
offline page and what the service worker precaches."""
