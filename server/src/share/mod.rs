//! What people share: preview cards (PNG) and QR posters (A4 PDF) of a
//! share link, drawn with one font subset.

pub mod texts;
