//! The string forms of an attachment: the `data:` URL (its serde form), the digest reference
//! (`attachment:MEDIA;name=…;size=…;sha256=…`, what records keep), and parsing a reference
//! given by a caller (`data:` URL, image URL, digest, else a path).

use super::media::check_declared;
use super::{Attachment, AttachmentError, AttachmentErrorKind, Content};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

impl Attachment {
    /// The serde form: a `data:` URL with the name, or the URL, or a digest reference.
    pub(crate) fn to_reference(&self) -> String {
        let name = self.name.as_deref().map(|n| format!(";name={}", encode_param(n)));
        let name = name.unwrap_or_default();
        match &self.content {
            Content::Bytes(b) => {
                format!("data:{}{name};base64,{}", self.media_type, BASE64.encode(b))
            }
            Content::Url(u) => u.clone(),
            Content::Recorded { sha256, size } => {
                format!("{DIGEST_SCHEME}{}{name};size={size};sha256={sha256}", self.media_type)
            }
        }
    }

    /// The digest form messages serialize to.
    pub(crate) fn digest(&self) -> AttachmentDigest {
        AttachmentDigest {
            media_type: self.media_type.clone(),
            name: self.name.clone(),
            size: self.size(),
            sha256: self.sha256(),
            url: self.source_url().map(str::to_owned),
        }
    }

    pub(crate) fn from_digest(d: AttachmentDigest) -> Self {
        let content = match (d.url, d.sha256) {
            (Some(url), _) => Content::Url(url),
            (None, sha256) => {
                Content::Recorded { sha256: sha256.unwrap_or_default(), size: d.size.unwrap_or(0) }
            }
        };
        Self { name: d.name, media_type: d.media_type, content }
    }
}

/// Prefix of the digest reference an attachment without its bytes serializes to.
pub(crate) const DIGEST_SCHEME: &str = "attachment:";

/// What a serialized message keeps of an attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AttachmentDigest {
    pub(crate) media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
}

/// Where a reference string points: an attachment already in hand, or a path to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentSource {
    /// A `data:` URL, an image URL or a digest reference, parsed.
    Inline(Attachment),
    /// A path, to be read by an [`AttachmentLoader`](super::AttachmentLoader).
    Path(String),
}

impl AttachmentSource {
    /// Parses a reference: `data:` URL, `http(s)` URL, digest reference, else a path.
    ///
    /// ```
    /// use llm_do_core::attachment::AttachmentSource;
    /// assert_eq!(AttachmentSource::parse("decks/acme.pdf").unwrap(), AttachmentSource::Path("decks/acme.pdf".into()));
    /// assert!(matches!(AttachmentSource::parse("data:text/plain;base64,aGk=").unwrap(), AttachmentSource::Inline(_)));
    /// ```
    pub fn parse(reference: &str) -> Result<Self, AttachmentError> {
        if let Some(rest) = reference.strip_prefix("data:") {
            return parse_data_url(rest).map(AttachmentSource::Inline);
        }
        if reference.starts_with("http://") || reference.starts_with("https://") {
            return Attachment::url(reference).map(AttachmentSource::Inline);
        }
        if let Some(rest) = reference.strip_prefix(DIGEST_SCHEME) {
            return parse_digest(rest).map(AttachmentSource::Inline);
        }
        if reference.trim().is_empty() {
            return Err(AttachmentError::new(
                AttachmentErrorKind::InvalidReference,
                "the attachment reference is empty; give a path, an http(s) URL or a data: URL",
            ));
        }
        Ok(AttachmentSource::Path(reference.to_owned()))
    }

    /// Parses a reference to a file given to be sent now (a worker's input, a tool's
    /// result): as [`parse`](Self::parse), but a digest reference is a
    /// [`ContentMissing`](AttachmentErrorKind::ContentMissing) error. A digest is what a
    /// record keeps of a file (its type, name, size and hash), never the file itself, so it
    /// can only be read back from a record, never sent to a model.
    pub(crate) fn parse_fresh(reference: &str) -> Result<Self, AttachmentError> {
        let source = Self::parse(reference)?;
        if let AttachmentSource::Inline(a) = &source
            && matches!(a.content, Content::Recorded { .. })
        {
            return Err(AttachmentError::new(
                AttachmentErrorKind::ContentMissing,
                format!(
                    "`{}` is given by its digest (`{DIGEST_SCHEME}…`, what run logs keep of a \
                     file), which has no content to send; give the file itself: a path, an \
                     http(s) URL of an image, or a data: URL",
                    a.display_name()
                ),
            ));
        }
        Ok(source)
    }
}

/// Whether [`AttachmentSource::parse`] takes `reference` for a path (without parsing what it
/// would take for an inline attachment: a `data:` URL can be large).
pub(crate) fn is_path(reference: &str) -> bool {
    !(reference.starts_with("data:")
        || reference.starts_with("http://")
        || reference.starts_with("https://")
        || reference.starts_with(DIGEST_SCHEME)
        || reference.trim().is_empty())
}

/// `MEDIA[;name=N][;k=v…];base64,DATA` (after `data:`).
fn parse_data_url(rest: &str) -> Result<Attachment, AttachmentError> {
    let invalid = |why: &str| {
        AttachmentError::new(
            AttachmentErrorKind::InvalidReference,
            format!("malformed data: URL ({why})"),
        )
    };
    let (header, data) = rest.split_once(',').ok_or_else(|| invalid("no `,`"))?;
    let mut params = header.split(';');
    let media_type = params.next().unwrap_or_default();
    let mut name = None;
    let mut base64 = false;
    for p in params {
        match p.split_once('=') {
            Some(("name", v)) => name = Some(decode_param(v)),
            None if p == "base64" => base64 = true,
            _ => {}
        }
    }
    if !base64 {
        return Err(invalid("only base64 data: URLs are accepted"));
    }
    let bytes = BASE64.decode(data.trim()).map_err(|e| invalid(&e.to_string()))?;
    if media_type.is_empty() {
        Attachment::from_bytes(bytes, name.as_deref())
    } else {
        Attachment::with_media_type(bytes, media_type, name.as_deref())
    }
}

/// `MEDIA[;name=N];size=S;sha256=H` (after `attachment:`). The media type must be a
/// supported one, as records only ever hold those.
fn parse_digest(rest: &str) -> Result<Attachment, AttachmentError> {
    let mut parts = rest.split(';');
    let declared = parts.next().unwrap_or_default();
    let mut digest = AttachmentDigest {
        media_type: String::new(),
        name: None,
        size: None,
        sha256: None,
        url: None,
    };
    for p in parts {
        match p.split_once('=') {
            Some(("name", v)) => digest.name = Some(decode_param(v)),
            Some(("size", v)) => digest.size = v.parse().ok(),
            Some(("sha256", v)) => digest.sha256 = Some(v.to_owned()),
            _ => {}
        }
    }
    digest.media_type = check_declared(declared, digest.name.as_deref())?.to_owned();
    Ok(Attachment::from_digest(digest))
}

/// Percent-encodes what cannot stand in a `data:` URL parameter.
fn encode_param(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~+".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode_param(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = value.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Serialize for Attachment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_reference())
    }
}

impl<'de> Deserialize<'de> for Attachment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let reference = String::deserialize(deserializer)?;
        match AttachmentSource::parse(&reference).map_err(serde::de::Error::custom)? {
            AttachmentSource::Inline(a) => Ok(a),
            AttachmentSource::Path(p) => Err(serde::de::Error::custom(format!(
                "`{p}` is a path: the runtime reads attachment paths for worker inputs (through \
                 its attachment loader); here give a data: URL or an image URL"
            ))),
        }
    }
}

impl schemars::JsonSchema for Attachment {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Attachment".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // An object, so the conversion cannot fail; `true` (any value) would be the fallback.
        schemars::Schema::try_from(super::attachment_schema()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_survive_the_data_url() {
        let a = Attachment::from_bytes(b"x".to_vec(), Some("Q3 deck; final,v2.txt")).unwrap();
        let s = serde_json::to_string(&a).unwrap();
        assert!(s.contains("name=Q3%20deck%3B%20final%2Cv2.txt;"), "{s}");
        assert_eq!(serde_json::from_str::<Attachment>(&s).unwrap(), a);
        assert_eq!(decode_param("%E2%9C%93%"), "✓%");
    }

    #[test]
    fn references() {
        let kind = |s: &str| AttachmentSource::parse(s).unwrap_err().kind();
        assert_eq!(kind(""), AttachmentErrorKind::InvalidReference);
        assert_eq!(kind("data:text/plain,hi"), AttachmentErrorKind::InvalidReference);
        assert_eq!(kind("data:application/zip;base64,aGk="), AttachmentErrorKind::UnknownMediaType);
        // A data: URL whose content is not what its type says.
        assert_eq!(kind("data:image/png;base64,aGk="), AttachmentErrorKind::UnknownMediaType);
        assert_eq!(kind("data:application/pdf;base64,aGk="), AttachmentErrorKind::UnknownMediaType);
        let png_as_text = "data:text/plain;base64,iVBORw0KGgoAAAANSUhEUg==";
        assert_eq!(kind(png_as_text), AttachmentErrorKind::UnknownMediaType);
        let AttachmentSource::Inline(d) =
            AttachmentSource::parse("attachment:application/pdf;name=a.pdf;size=3;sha256=ab")
                .unwrap()
        else {
            panic!()
        };
        assert_eq!((d.size(), d.sha256().as_deref(), d.bytes()), (Some(3), Some("ab"), None));
        assert!(serde_json::from_str::<Attachment>("\"a/b.pdf\"").is_err());
    }
}
