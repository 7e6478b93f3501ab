from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from api.v1 import api as api_v1
from orders import api as orders_api
from shops import views as shop_views

from . import views

admin.site.site_header = "Seller Center — platform staff"
admin.site.site_title = "Seller Center admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("language/", shop_views.set_language, name="set_language"),
    # app.js's words in the page's language (gettext() and friends, from locale/*/djangojs.po).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by email: Django's views, the site's templates (templates/registration/).
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("admin/", admin.site.urls),
    path("api/storefront/orders/", orders_api.storefront_orders, name="storefront-orders"),
    path("api/storefront/orders/<str:number>/payment", orders_api.storefront_payment, name="storefront-payment"),
    path("api/carriers/", include("shipping.api_urls")),
    path("api/v1/", api_v1.urls),
    path("s/<slug:shop>/orders/", include("orders.urls")),
    path("s/<slug:shop>/shipping/", include("shipping.urls")),
    path("s/<slug:shop>/notifications/", include("shops.urls")),
    path("returns/", include("returns.public_urls")),
    path("s/<slug:shop>/requests/", include("returns.urls")),
    path("s/<slug:shop>/health/", views.health_page, name="shop_health"),
    path("s/<slug:shop>/settings/api-keys/", include("api.urls")),
    path("s/<slug:shop>/settings/team/", include("shops.team_urls")),
    path("s/<slug:shop>/inventory/", include("shops.inventory_urls")),
    path("s/<slug:shop>/settings/warehouses/", include("shops.warehouse_urls")),
    path("invite/<str:token>/", shop_views.invitation, name="invitation"),
    path("s/<slug:shop>/settings/webhooks/", include("api.webhook_urls")),
]

handler403 = "seller_center.views.forbidden"
handler404 = "seller_center.views.not_found"
