//! The facts of the route Envoy selected, as properties: its name (`xds.route_name`) and the
//! rule its metadata names (`xds.route_metadata.filter_metadata["jwt_guard"]["rule"]`).
//! Each is read only when the configuration's rules need it ([`crate::policy::RouteNeeds`]).

use crate::policy::RouteNeeds;
use proxy_wasm::hostcalls;

/// The route facts one request's rules need, as owned text.
#[derive(Debug, Default)]
pub struct RouteFacts {
    /// `:authority`, when a rule has `hosts`.
    pub authority: Option<String>,
    /// The route's name, when a rule has `route_names` and the route has a name.
    pub name: Option<String>,
    /// What the route's metadata names, when some rule has a `name` and the route names one.
    pub rule: Option<String>,
}

impl RouteFacts {
    /// Reads what `needs` asks for; `header` reads a request header.
    pub fn read(needs: RouteNeeds, header: impl Fn(&str) -> Option<String>) -> RouteFacts {
        RouteFacts {
            authority: needs.authority.then(|| header(":authority")).flatten(),
            name: needs.name.then(route_name).flatten(),
            rule: needs.rule.then(route_rule).flatten(),
        }
    }

    /// The facts as the policy reads them.
    pub fn route(&self) -> crate::policy::Route<'_> {
        crate::policy::Route {
            authority: self.authority.as_deref(),
            name: self.name.as_deref(),
            rule: self.rule.as_deref(),
        }
    }
}

/// The selected route's name, if it has one.
fn route_name() -> Option<String> {
    let bytes = hostcalls::get_property(vec!["xds", "route_name"]).ok()??;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The property path of the rule a route's metadata names: Envoy walks the metadata map
/// and the struct itself, so only the value comes back (checked in Envoy 1.40).
const ROUTE_RULE_PROPERTY: &[u8] = b"xds\0route_metadata\0filter_metadata\0jwt_guard\0rule";
/// The host's status for a property that is not there.
const NOT_FOUND: u32 = 1;

#[link(wasm_import_module = "env")]
extern "C" {
    // Called directly: the SDK's get_property cannot tell an empty value (status 0, no
    // data) from an absent one.
    #[link_name = "proxy_get_property"]
    fn get_property(
        path_data: *const u8,
        path_size: usize,
        return_data: *mut *mut u8,
        return_size: *mut usize,
    ) -> u32;
}

/// The rule the selected route's metadata names: `None` where it names none, else the
/// value as text even when it cannot name a rule (an empty string, a number or a struct,
/// which Envoy serialises; an unreadable value): the policy refuses those as unknown.
fn route_rule() -> Option<String> {
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: the path is a live static buffer the host only reads; on success the host
    // writes a buffer it allocated through this module's allocator (or null for an empty
    // value), which is taken back exactly once below.
    let status = unsafe {
        get_property(
            ROUTE_RULE_PROPERTY.as_ptr(),
            ROUTE_RULE_PROPERTY.len(),
            &mut data,
            &mut size,
        )
    };
    let bytes = if data.is_null() {
        Vec::new()
    } else {
        // SAFETY: `data`/`size` describe the host-allocated buffer written above.
        unsafe { Vec::from_raw_parts(data, size, size) }
    };
    match status {
        NOT_FOUND => None,
        0 => Some(String::from_utf8_lossy(&bytes).into_owned()),
        other => Some(format!("(unreadable value, host status {other})")),
    }
}
