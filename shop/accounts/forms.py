from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.apps.customer.forms import UserForm


class ProfileForm(UserForm):
    """Oscar's profile form (names, e-mail), asking for the current password when the
    e-mail address changes (R39). The shop has no profile model, so Oscar's ProfileForm is
    its UserForm.

    save() stores everything but the address: a new address waits for the confirmation
    link (shop.accounts.services.email_change_request).
    """

    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed only to change your e-mail address."),
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        # Before validation copies the posted address into the instance.
        self.current_email = user.email
        self.fields["email"].help_text = _(
            "A new address is used once you follow the link we send to it."
        )

    def email_changed(self) -> bool:
        new_email = self.cleaned_data.get("email")
        return bool(new_email) and new_email != self.current_email

    def clean(self):
        cleaned_data = super().clean()
        if self.email_changed():
            password = cleaned_data.get("current_password", "")
            if not password:
                self.add_error(
                    "current_password",
                    _("Enter your current password to change your e-mail address."),
                )
            elif not self.user.check_password(password):
                self.add_error("current_password", _("Your current password is not correct."))
        return cleaned_data

    def save(self, commit: bool = True):
        user = super().save(commit=False)
        user.email = self.current_email
        if commit:
            user.save(update_fields=[name for name in self._meta.fields if name != "email"])
        return user
