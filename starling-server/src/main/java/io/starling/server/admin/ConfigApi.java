package io.starling.server.admin;

import io.netty.handler.codec.http.HttpMethod;
import io.starling.broker.config.BrokerConfig;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * {@code GET /api/v1/config}: the effective configuration as JSON, record by record (component names as in the Java
 * configuration classes), with every secret replaced by {@value #REDACTED}: a component whose name says it holds a
 * password, passphrase, secret or token (but not a file name: files are shown by name and never read here), and
 * the passwords of a map of users and the values of a map of HTTP headers (their names are shown), and the user
 * information of a URL.
 */
final class ConfigApi {

    static final String REDACTED = "***";
    /** Names of components that hold secrets themselves (not the name of a file that does). */
    private static final Pattern SECRET = Pattern.compile("(?i).*(password|passphrase|secret|token)(?!file).*");

    /** Maps of user name to password (SCRAM users): the names are shown, not the passwords. */
    private static final Pattern USERS = Pattern.compile("(?i).*users");

    private final Supplier<BrokerConfig> config;

    ConfigApi(Supplier<BrokerConfig> config) {
        this.config = config;
    }

    void register(AdminRouter router) {
        router.api(HttpMethod.GET, "/api/v1/config", r -> AdminRouter.now(Responses.ok(toJson(config.get()))));
    }

    /** {@code value} as maps, lists, strings, numbers and booleans, secrets redacted. */
    static Object toJson(Object value) {
        if (value == null || value instanceof Number || value instanceof Boolean || value instanceof String) {
            return value;
        }
        if (value instanceof Path || value instanceof Duration || value instanceof Character) {
            return value.toString();
        }
        if (value instanceof java.net.URI u && u.getRawUserInfo() != null) {
            return u.toString().replace(u.getRawUserInfo() + "@", REDACTED + "@"); // credentials in a URL
        }
        if (value instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
        if (value instanceof byte[] || value instanceof char[]) {
            return REDACTED;
        }
        if (value instanceof Collection<?> c) {
            var out = new ArrayList<Object>(c.size());
            for (Object o : c) {
                out.add(toJson(o));
            }
            return out;
        }
        if (value instanceof Map<?, ?> m) {
            var out = new LinkedHashMap<String, Object>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String k = String.valueOf(e.getKey());
                out.put(k, isSecret(k) && e.getValue() != null ? REDACTED : toJson(e.getValue()));
            }
            return out;
        }
        if (value.getClass().isRecord()) {
            var out = new LinkedHashMap<String, Object>();
            for (RecordComponent rc : value.getClass().getRecordComponents()) {
                Object v;
                try {
                    rc.getAccessor().setAccessible(true);
                    v = rc.getAccessor().invoke(value);
                } catch (IllegalAccessException | InvocationTargetException | RuntimeException e) {
                    v = "?";
                }
                out.put(rc.getName(), redacted(rc.getName(), v));
            }
            return out;
        }
        return value.toString();
    }

    /** {@code v} of the component {@code name}: redacted if a secret, its values redacted if a map of users. */
    private static Object redacted(String name, Object v) {
        if (v == null) {
            return null;
        }
        if (isSecret(name)) {
            return REDACTED;
        }
        // user name -> password (SCRAM users), header name -> value (webhooks, HTTP authentication: tokens)
        if (v instanceof Map<?, ?> m && (USERS.matcher(name).matches() || name.equals("headers"))) {
            var out = new LinkedHashMap<String, Object>();
            for (Object k : m.keySet()) {
                out.put(String.valueOf(k), REDACTED); // user name -> password: the names only
            }
            return out;
        }
        return toJson(v);
    }

    static boolean isSecret(String name) {
        return SECRET.matcher(name.replace("-", "").replace("_", "")).matches();
    }
}
