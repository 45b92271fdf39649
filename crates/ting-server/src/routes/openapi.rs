//! `GET /api/v1/openapi.json`, generated from the handlers' annotations and the `ting-proto`
//! types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    admin, auth, blobs, devices, health, key_packages, keylog, link, messages, policy, recovery,
    rooms, setup, welcomes, ws,
};

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Ting API", description = "The Ting server's HTTP API. The server is a blind relay: no field carries content or a key that decrypts it; KeyPackages are public MLS material."),
    paths(
        health::healthz, health::metrics, setup::setup, auth::login, auth::logout, auth::logout_all, auth::me,
        devices::list_own, devices::revoke_own, devices::list_for_user,
        key_packages::upload, key_packages::count, key_packages::claim, ws::upgrade,
        rooms::create, rooms::list, rooms::get, rooms::update, rooms::members,
        messages::send, messages::page, messages::ack, welcomes::list, welcomes::delete,
        blobs::create, blobs::status, blobs::upload, blobs::download,
        policy::client, policy::get, policy::set, crate::web::info,
        keylog::append, keylog::user, keylog::key, keylog::checkpoint, keylog::entries,
        keylog::inclusion, keylog::consistency, keylog::cosign,
        link::create, link::get, link::respond, link::take,
        recovery::put, recovery::get,
        policy::check, policy::revisions,
        admin::accounts::list, admin::accounts::devices, admin::accounts::deactivate,
        admin::accounts::reactivate, admin::accounts::set_admin, admin::accounts::revoke_device,
        admin::invitations::create, admin::invitations::list, admin::invitations::withdraw,
        admin::invitations::password_reset, admin::invitations::info, admin::invitations::accept,
        admin::audit::page, admin::audit::verify, admin::audit::export,
        admin::ops::compliance, admin::ops::health,
    ),
    components(schemas(ting_proto::ws::ClientMessage, ting_proto::ws::ServerEvent)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Serves the document.
pub async fn serve() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
