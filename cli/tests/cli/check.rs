//! `jwt-guard check`: what it finds in each kind of file, its messages and exit codes.

use crate::support::*;

fn wasm_filter(vm_id: &str, config: &str, extra: &str) -> String {
    let config = config.replace('\n', " ").replace('\'', "''");
    format!(
        "          - name: envoy.filters.http.wasm
            typed_config:
              '@type': type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: jwt_guard
                root_id: jwt_guard
{extra}                vm_config:
                  vm_id: {vm_id}
                  code: {{local: {{filename: jwt_guard.wasm}}}}
                configuration:
                  '@type': type.googleapis.com/google.protobuf.StringValue
                  value: '{config}'
"
    )
}

/// An Envoy bootstrap: one listener with these HTTP filters, and these clusters.
fn bootstrap(filters: &str, clusters: &str) -> String {
    format!(
        "static_resources:
  listeners:
  - name: api
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          http_filters:
{filters}          - name: envoy.filters.http.router
  clusters:
{clusters}"
    )
}

const TLS_CLUSTER: &str = "  - name: idp
    transport_socket:
      name: envoy.transport_sockets.tls
";

#[test]
fn a_valid_plugin_configuration_exits_0() {
    let d = Dir::new("check-valid");
    let f = d.file("plugin.json", &plugin(""));
    let r = run(&["check", &f], "");
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains(&format!(
        "{f}: plugin configuration: valid (1 provider(s), 0 rule(s))"
    )));
}

#[test]
fn errors_name_file_place_and_field_path() {
    let d = Dir::new("check-invalid");
    let bad = plugin("").replace(r#"["api"]"#, "[]");
    let f = d.file("plugin.json", &bad);
    let r = run(&["check", &f], "");
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains(&format!(
            "{f}: plugin configuration: providers[idp].audiences: must list at least one audience"
        )),
        "{}",
        r.stdout
    );
    let envoy = d.file(
        "envoy.yaml",
        &bootstrap(&wasm_filter("v", &bad, ""), TLS_CLUSTER),
    );
    let r = run(&["check", &envoy], "");
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains(&format!(
        "{envoy}: listener api: http_filters[0] (jwt_guard): providers[idp].audiences:"
    )));
    let r = run(&["check", "-"], "{\"providers\": [");
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("<stdin>: not JSON"), "{}", r.stdout);
}

#[test]
fn stdin_multi_document_yaml_and_kubernetes_resources() {
    let config = "  pluginConfig:
    providers:
    - name: idp
      issuer: https://idp.test/
      audiences: [api]
      jwks_uri: https://idp.test/jwks
      jwks_cluster: outbound|443||idp.test
";
    let stream = format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: api}}\n---\n\
         apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {{name: g, namespace: api}}\nspec:\n  pluginName: jwt_guard\n{config}---\n\
         apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyExtensionPolicy\nmetadata: {{name: p}}\nspec:\n  wasm:\n  - rootID: jwt_guard\n    failOpen: true\n    config:\n      providers: []\n"
    );
    let r = run(&["check", "-"], &stream);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("<stdin>: document 2: WasmPlugin api/g: valid"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(
        "<stdin>: document 3: EnvoyExtensionPolicy p: wasm[0]: providers: at least one provider is required"
    ), "{}", r.stdout);
}

#[test]
fn directories_are_walked_and_files_without_configuration_skipped() {
    let d = Dir::new("check-walk");
    d.file("a/plugin.json", &plugin(""));
    d.file("a/b/other.yaml", "kind: ConfigMap\n");
    d.file("a/notes.txt", "not read");
    let r = run(&["check", d.path().to_str().unwrap()], "");
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r
        .stdout
        .contains("other.yaml: skipped (no jwt-guard configuration)"));
    assert!(!r.stdout.contains("notes.txt"));
    assert!(r
        .stdout
        .contains("1 valid, 0 invalid, 0 warnings, 1 skipped, 0 unreadable"));
}

#[test]
fn nothing_found_or_unreadable_exits_2() {
    let d = Dir::new("check-nothing");
    let f = d.file("other.yaml", "a: 1\n");
    let r = run(&["check", &f], "");
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("no jwt-guard configuration found"));
    let good = d.file("plugin.json", &plugin(""));
    let r = run(&["check", &good, "/nonexistent/x.yaml"], "");
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("/nonexistent/x.yaml: unreadable"));
    let r = run(&["check"], "");
    assert_eq!(r.code, 2, "a FILE is required");
}

#[test]
fn envoy_warnings_and_strict() {
    let d = Dir::new("check-warn");
    let cfg = plugin("");
    let cors = "          - name: envoy.filters.http.cors\n";
    let cases = [
        (
            bootstrap(&wasm_filter("v", &cfg, ""), "  - name: other\n"),
            r#"providers[idp].jwks_cluster: cluster "idp" is not defined in this file"#,
        ),
        (
            bootstrap(&wasm_filter("v", &cfg, ""), "  - name: idp\n"),
            r#"cluster "idp" has no TLS transport socket, but the provider's URL is https"#,
        ),
        (
            bootstrap(
                &wasm_filter("v", &cfg, "                fail_open: true\n"),
                TLS_CLUSTER,
            ),
            "fail_open is set",
        ),
        (
            bootstrap(
                &format!("{}{cors}", wasm_filter("v", &cfg, "")),
                TLS_CLUSTER,
            ),
            "the CORS filter comes after jwt-guard",
        ),
        (
            bootstrap(
                &format!(
                    "{}{}",
                    wasm_filter("one", &cfg, ""),
                    wasm_filter("two", &cfg, "")
                ),
                TLS_CLUSTER,
            ),
            r#"appears under vm_ids "one", "two""#,
        ),
    ];
    for (i, (yaml, warning)) in cases.iter().enumerate() {
        let f = d.file(&format!("envoy{i}.yaml"), yaml);
        let r = run(&["check", &f], "");
        assert_eq!(r.code, 0, "{}", r.all());
        let said = |out: &str, severity: &str| {
            out.lines()
                .any(|l| l.contains(&format!(": {severity}: ")) && l.contains(warning))
        };
        assert!(said(&r.stdout, "warning"), "{warning}:\n{}", r.stdout);
        let r = run(&["check", "--strict", &f], "");
        assert_eq!(r.code, 1, "--strict: {}", r.stdout);
        assert!(said(&r.stdout, "error"), "{}", r.stdout);
    }
    let clean = d.file(
        "clean.yaml",
        &bootstrap(
            &format!("{cors}{}", wasm_filter("v", &cfg, "")),
            TLS_CLUSTER,
        ),
    );
    let r = run(&["check", "--strict", &clean], "");
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("0 warnings"));
}
