//! The files users gave mini-apps, as the embedding app shows them:
//! [`Host::media_file`] gives a file to the one user who gave it, for a
//! page's image block `media:ID` (the server's and the simulator's URL for
//! it, `plaza run`'s text rendering).
//!
//! ```
//! # async fn demo(host: plaza_host::Host) -> plaza_host::Result<()> {
//! if let Some((record, bytes)) = host.media_file("alice", "cn.hz.citizen", "m-1")? {
//!     println!("{} ({}, {} bytes)", record.name, record.kind, bytes.len());
//! }
//! # Ok(()) }
//! ```

use super::{Host, check_user};
use crate::error::{Error, Result};
use crate::store::MediaRecord;

impl Host {
    /// The file `id` that `user` gave the mini-app `app`, with its bytes;
    /// `None` for any other user, any other mini-app, or no such file.
    pub fn media_file(
        &self,
        user: &str,
        app: &str,
        id: &str,
    ) -> Result<Option<(MediaRecord, Vec<u8>)>> {
        check_user(user)?;
        if id.is_empty() || id.len() > crate::capabilities::MAX_MEDIA_ID_BYTES {
            return Err(Error::InvalidRequest(format!(
                "a file id is 1 to {} bytes",
                crate::capabilities::MAX_MEDIA_ID_BYTES
            )));
        }
        Ok(self.inner.services.store.media_get(user, app, id)?)
    }
}
