//! The foundation staff's admin console (issue 10). For now only the
//! pieces that need no database: [`chart`] draws the SVG charts that stand
//! beside the console's tables ([`crate::tables`]).

pub mod chart;
