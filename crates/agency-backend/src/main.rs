//! `plaza-agency-backend [ADDR]`: serves the city-services sample's agency
//! records on `ADDR` (default `127.0.0.1:47180`) until killed.

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| plaza_agency_backend::DEFAULT_ADDR.to_string());
    match plaza_agency_backend::Backend::start(&addr) {
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
