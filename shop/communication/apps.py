from oscar.apps.communication import apps


class CommunicationConfig(apps.CommunicationConfig):
    name = "shop.communication"
