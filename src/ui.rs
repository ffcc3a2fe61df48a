//! The front ends: static HTML/CSS/JS under `src/ui/`, embedded in the binary (release builds)
//! and served at `/ui/…`; `/` is the customer chat widget, `/desk` the agent desk and `/console`
//! the supervisor console.

use actix_web::{get, http::header, web, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "src/ui/"]
struct Assets;

/// Registers the UI routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(widget)
        .service(desk)
        .service(console)
        .service(asset);
}

fn serve(path: &str) -> HttpResponse {
    match Assets::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            HttpResponse::Ok()
                .content_type(mime.as_ref())
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .insert_header(("X-Content-Type-Options", "nosniff"))
                .body(file.data.into_owned())
        }
        None => HttpResponse::NotFound().json(serde_json::json!({
            "error": {"code": "not_found", "message": format!("No asset {path}.")}
        })),
    }
}

#[get("/")]
async fn widget() -> HttpResponse {
    serve("widget/index.html")
}

#[get("/desk")]
async fn desk() -> HttpResponse {
    serve("desk/index.html")
}

#[get("/console")]
async fn console() -> HttpResponse {
    serve("console/index.html")
}

#[get("/ui/{path:.*}")]
async fn asset(path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    if path.split('/').any(|part| part == "..") {
        return serve("");
    }
    serve(&path)
}
