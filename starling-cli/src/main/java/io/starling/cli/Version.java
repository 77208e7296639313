package io.starling.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The version of this build of Starling, as the build wrote it into {@code version.properties}. */
public final class Version implements IVersionProvider {

    private static final String RESOURCE = "version.properties";

    /** The release version, for example {@code 0.1.0}, or {@code 0.1.0-SNAPSHOT} for a development build. */
    public static String current() {
        try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path: a broken build");
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version");
            if (v == null || v.isBlank() || v.startsWith("${")) {
                throw new IllegalStateException(RESOURCE + " has no version: the build did not fill it in");
            }
            return v.trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The line that {@code starling --version} and {@code starling version} print. */
    public static String line() {
        return "Starling " + current();
    }

    @Override
    public String[] getVersion() {
        return new String[] {line()};
    }
}
