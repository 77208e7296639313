package io.starling.server.config;

import io.starling.broker.config.AuthenticationConfig;
import io.starling.broker.config.AuthenticationConfig.Backend;
import io.starling.broker.config.WebhooksConfig;
import io.starling.broker.topic.Topics;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Parses the {@code authentication} and {@code webhooks} keys (docs/configuration.md, docs/integrations.md). An
 * unknown key or a bad value is an {@link IllegalArgumentException} that names the key. Stateless.
 */
final class IntegrationsConfigParser {

    private IntegrationsConfigParser() {
    }

    /** {@code authentication:} a list of backends, each a mapping with a {@code type}. */
    static AuthenticationConfig authentication(Object v) {
        if (v == null) {
            return AuthenticationConfig.NONE;
        }
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("expected a list of backends, each a mapping with a 'type'"
                    + " (password-file, jwt, http)");
        }
        List<Backend> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            try {
                out.add(backend(list.get(i)));
            } catch (IllegalArgumentException | ClassCastException e) {
                throw new IllegalArgumentException("backend " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return new AuthenticationConfig(out);
    }

    private static Backend backend(Object v) {
        Map<String, Object> m = mapping(v, "a mapping with a 'type' (password-file, jwt, http)");
        String type = m.get("type") == null ? null : String.valueOf(m.get("type"));
        if (type == null) {
            throw new IllegalArgumentException("'type' is required: password-file, jwt or http");
        }
        String name = m.containsKey("name") ? string(m.get("name"), "name") : type;
        return switch (type) {
            case "password-file" -> {
                only(m, "type", "name", "file");
                yield new AuthenticationConfig.PasswordFileBackend(name, m.containsKey("file")
                        ? Path.of(string(m.get("file"), "file")) : null);
            }
            case "jwt" -> jwt(name, m);
            case "http" -> http(name, m);
            default -> throw new IllegalArgumentException("key 'type': '" + type + "' is not one of password-file, jwt,"
                    + " http");
        };
    }

    private static Backend jwt(String name, Map<String, Object> m) {
        only(m, "type", "name", "secret-file", "public-key-file", "jwks-url", "jwks-refresh-seconds",
                "jwks-min-interval-seconds", "leeway-seconds", "issuer", "audience", "username-claim", "username",
                "acl-claims", "disconnect-at-expiry");
        Path secret = m.containsKey("secret-file") ? Path.of(string(m.get("secret-file"), "secret-file")) : null;
        Path publicKey = m.containsKey("public-key-file") ? Path.of(string(m.get("public-key-file"), "public-key-file"))
                : null;
        URI jwks = m.containsKey("jwks-url") ? url(m.get("jwks-url"), "jwks-url") : null;
        Object aud = m.get("audience");
        List<String> audiences = aud == null ? List.of() : aud instanceof List<?> ? strings(aud, "audience")
                : List.of(string(aud, "audience"));
        AuthenticationConfig.UsernameCheck check = AuthenticationConfig.UsernameCheck.IGNORE;
        if (m.containsKey("username")) {
            String u = string(m.get("username"), "username");
            check = switch (u) {
                case "ignore" -> AuthenticationConfig.UsernameCheck.IGNORE;
                case "match" -> AuthenticationConfig.UsernameCheck.MATCH;
                default -> throw new IllegalArgumentException("key 'username': '" + u + "' is not one of ignore, match");
            };
        }
        List<String> claims = m.containsKey("acl-claims") ? strings(m.get("acl-claims"), "acl-claims") : List.of();
        for (String c : claims) {
            if (!io.starling.broker.acl.Placeholders.isAttributeName(c)) {
                throw new IllegalArgumentException("key 'acl-claims': '" + c + "' is not a usable name (letters,"
                        + " digits, _ - . :)");
            }
        }
        return new AuthenticationConfig.JwtBackend(name, secret, publicKey, jwks,
                seconds(m, "jwks-refresh-seconds", null), seconds(m, "jwks-min-interval-seconds", null),
                seconds(m, "leeway-seconds", null), m.containsKey("issuer") ? string(m.get("issuer"), "issuer") : null,
                audiences, m.containsKey("username-claim") ? string(m.get("username-claim"), "username-claim") : null,
                check, claims, m.containsKey("disconnect-at-expiry") && bool(m.get("disconnect-at-expiry"),
                "disconnect-at-expiry"));
    }

    private static Backend http(String name, Map<String, Object> m) {
        only(m, "type", "name", "url", "headers", "timeout-ms", "on-failure", "cache-seconds", "cache-size",
                "max-concurrent");
        if (!m.containsKey("url")) {
            throw new IllegalArgumentException("'url' is required for an http backend");
        }
        AuthenticationConfig.OnFailure onFailure = AuthenticationConfig.OnFailure.ERROR;
        if (m.containsKey("on-failure")) {
            String f = string(m.get("on-failure"), "on-failure");
            try {
                onFailure = AuthenticationConfig.OnFailure.valueOf(f.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("key 'on-failure': '" + f + "' is not one of deny, ignore, error", e);
            }
        }
        return new AuthenticationConfig.HttpBackend(name, url(m.get("url"), "url"), headers(m.get("headers")),
                millis(m, "timeout-ms", Duration.ofSeconds(5)), onFailure, seconds(m, "cache-seconds", null),
                integer(m, "cache-size", 10_000), integer(m, "max-concurrent", 64));
    }

    /** {@code webhooks:} a list of receivers, each a mapping with a {@code url}. */
    static WebhooksConfig webhooks(Object v) {
        if (v == null) {
            return WebhooksConfig.NONE;
        }
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("expected a list of webhooks, each a mapping with a 'url'");
        }
        List<WebhooksConfig.Hook> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            try {
                out.add(hook(list.get(i)));
            } catch (IllegalArgumentException | ClassCastException e) {
                throw new IllegalArgumentException("webhook " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return new WebhooksConfig(out);
    }

    private static WebhooksConfig.Hook hook(Object v) {
        Map<String, Object> m = mapping(v, "a mapping with a 'url'");
        only(m, "url", "events", "topics", "headers", "timeout-ms", "max-retries", "retry-backoff-ms",
                "max-queued-events", "max-queued-bytes", "batch-size");
        if (!m.containsKey("url")) {
            throw new IllegalArgumentException("'url' is required");
        }
        Set<WebhooksConfig.Event> events = EnumSet.noneOf(WebhooksConfig.Event.class);
        if (m.containsKey("events")) {
            for (String e : strings(m.get("events"), "events")) {
                WebhooksConfig.Event ev = WebhooksConfig.Event.of(e);
                if (ev == null) {
                    List<String> names = new ArrayList<>();
                    for (WebhooksConfig.Event x : WebhooksConfig.Event.values()) {
                        names.add(x.configName());
                    }
                    throw new IllegalArgumentException("key 'events': '" + e + "' is not one of " + names);
                }
                events.add(ev);
            }
        } else {
            events.addAll(EnumSet.allOf(WebhooksConfig.Event.class));
            if (!m.containsKey("topics")) {
                events.remove(WebhooksConfig.Event.MESSAGE_PUBLISHED);
            }
        }
        List<String> topics = m.containsKey("topics") ? strings(m.get("topics"), "topics") : List.of();
        for (String t : topics) {
            if (!Topics.isValidFilter(t) || Topics.isShared(t)) {
                throw new IllegalArgumentException("key 'topics': '" + t + "' is not a valid topic filter");
            }
        }
        if (events.contains(WebhooksConfig.Event.MESSAGE_PUBLISHED) && topics.isEmpty()) {
            throw new IllegalArgumentException("the message.published event needs 'topics' (filters, e.g. ['#'])");
        }
        return new WebhooksConfig.Hook(url(m.get("url"), "url"), events, topics, headers(m.get("headers")),
                millis(m, "timeout-ms", Duration.ofSeconds(5)), integer(m, "max-retries", 3),
                millis(m, "retry-backoff-ms", Duration.ofSeconds(1)), integer(m, "max-queued-events", 10_000),
                longValue(m, "max-queued-bytes", 16L * 1024 * 1024), integer(m, "batch-size", 1));
    }

    // ---------------------------------------------------------------- values

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mapping(Object v, String expected) {
        if (!(v instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("expected " + expected);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            out.put(String.valueOf(e.getKey()), e.getValue());
        }
        return out;
    }

    private static void only(Map<String, Object> m, String... keys) {
        Set<String> known = Set.of(keys);
        for (String k : m.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("key '" + k + "': unknown key (see docs/integrations.md)");
            }
        }
    }

    private static String string(Object v, String key) {
        if (v == null || String.valueOf(v).isEmpty()) {
            throw new IllegalArgumentException("key '" + key + "': a value is required");
        }
        return String.valueOf(v);
    }

    private static List<String> strings(Object v, String key) {
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("key '" + key + "': expected a list, e.g. [a, b]");
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) {
            out.add(string(o, key));
        }
        return out;
    }

    private static boolean bool(Object v, String key) {
        if (v instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException("key '" + key + "': expected true or false, got '" + v + "'");
    }

    private static long longValue(Map<String, Object> m, String key, long dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Number n) || n.longValue() < 0) {
            throw new IllegalArgumentException("key '" + key + "': expected a number >= 0, got '" + v + "'");
        }
        return n.longValue();
    }

    private static int integer(Map<String, Object> m, String key, int dflt) {
        long l = longValue(m, key, dflt);
        if (l > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("key '" + key + "': value out of range: " + l);
        }
        return (int) l;
    }

    private static Duration seconds(Map<String, Object> m, String key, Duration dflt) {
        return m.containsKey(key) ? Duration.ofSeconds(longValue(m, key, 0)) : dflt;
    }

    private static Duration millis(Map<String, Object> m, String key, Duration dflt) {
        Duration d = m.containsKey(key) ? Duration.ofMillis(longValue(m, key, 0)) : dflt;
        if (d.isZero()) {
            throw new IllegalArgumentException("key '" + key + "': must be more than 0");
        }
        return d;
    }

    private static URI url(Object v, String key) {
        String s = string(v, key);
        try {
            URI u = new URI(s);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new IllegalArgumentException("key '" + key + "': expected an http:// or https:// URL, got '" + s
                        + "'");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("key '" + key + "': not a URL: " + e.getMessage(), e);
        }
    }

    private static Map<String, String> headers(Object v) {
        if (v == null) {
            return Map.of();
        }
        Map<String, Object> m = mapping(v, "headers: a mapping of header names to values");
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            out.put(e.getKey(), string(e.getValue(), "headers: " + e.getKey()));
        }
        return out;
    }
}
