//! The OpenAPI 3.1 document served at `/v1/openapi.json`, made from the
//! routes as they are added ([`crate::api::routes`]): it lists exactly the
//! routes that exist.

use crate::api::{Access, routes};
use serde_json::{Map, Value, json};

/// The document.
pub fn document() -> Value {
    let (_, docs) = routes();
    let mut paths = Map::new();
    for d in docs {
        let params: Vec<Value> = d
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "summary": d.summary,
            "parameters": params,
            "responses": {
                "200": {"description": "Done.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}}},
                "default": {"description": "An error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        match d.access {
            Access::Public => op["security"] = json!([]),
            Access::User => op["security"] = json!([{"user": []}]),
            Access::Operator => op["security"] = json!([{"operator": []}]),
            Access::Publisher => op["security"] = json!([{"publisher": []}]),
        }
        if let Some(schema) = d.body {
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}});
        } else if d.path == "/v1/admin/packages" && d.method == axum::http::Method::POST {
            op["requestBody"] = json!({"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}});
        }
        let entry = paths.entry(d.path.to_string()).or_insert_with(|| json!({}));
        entry[d.method.as_str().to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Plaza server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The Plaza host as a service: a phone renders pages and answers prompts. See docs/server.md.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "user": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A JWT of a configured issuer: `iss`, `sub`, `exp`; HS256 or EdDSA."},
                "operator": {"type": "http", "scheme": "bearer", "description": "The server's admin_token."},
                "publisher": {"type": "http", "scheme": "bearer", "description": "A mini-app back-end's access token, from POST /v1/publisher/token (two hours)."},
            },
            "schemas": {
                "Page": crate::page::page_schema(),
                "Prompt": {
                    "type": "object", "required": ["id", "kind", "app_id", "timeout_ms"],
                    "properties": {
                        "id": {"type": "string"},
                        "kind": {"enum": ["payment", "consent", "subscription"]},
                        "app_id": {"type": "string"}, "app_name": {"type": "string"},
                        "timeout_ms": {"type": "integer"},
                    },
                    "description": "payment: payee, payee_verified, order_id, amount, amount_minor, currency, description, items, insurance_part, wallet_part, wallet_balance. consent: publisher_name, publisher_verified, scope, purpose. subscription: publisher_name, templates [{id, title, fields, long_term}].",
                },
                "Answer": {"type": "object", "description": "For events and answers: exactly one of page, prompt, home.", "properties": {
                    "page": {"$ref": "#/components/schemas/Page"},
                    "prompt": {"$ref": "#/components/schemas/Prompt"},
                    "home": {"type": "boolean"},
                }},
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["kind", "message"],
                    "properties": {"kind": {"type": "string"}, "message": {"type": "string"}},
                }}},
            },
        },
    })
}
