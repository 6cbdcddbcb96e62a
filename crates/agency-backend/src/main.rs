//! `plaza-agency-backend [ADDR]`: serves the city-services sample's agency
//! records on `ADDR` (default `127.0.0.1:47180`) until killed; with
//! `AGENCY_API_KEY` set, only to requests that carry it as a bearer token.

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| plaza_agency_backend::DEFAULT_ADDR.to_string());
    let key = std::env::var(plaza_agency_backend::API_KEY_ENV).ok();
    match plaza_agency_backend::Backend::start_with_key(&addr, key) {
        Ok(b) => {
            println!("agency backend: serving on http://{}", b.addr());
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("agency backend: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    }
}
