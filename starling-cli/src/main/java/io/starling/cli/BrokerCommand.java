package io.starling.cli;

import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.server.StarlingServer;
import io.starling.server.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code starling broker}: runs the broker until Ctrl-C or SIGTERM. */
@Command(name = "broker", mixinStandardHelpOptions = true, description = "Run the MQTT broker (the default)")
final class BrokerCommand implements Callable<Integer> {

    /** Set once a broker has started in this process. */
    private static volatile boolean ran;

    @Option(names = "--config", description = "YAML config file (see docs/configuration.md)")
    Path config;

    @Option(names = "--bind", description = "address of the MQTT listener, or of the first of the file's listeners (default 127.0.0.1)")
    String bind;

    @Option(names = "--port", description = "port of the MQTT listener, or of the first of the file's listeners (default 1883)")
    Integer port;

    @Option(names = "--data-dir", description = "data directory (default ./data)")
    Path dataDir;

    @Option(names = "--admin-port", description = "port of the admin listener (metrics, health checks; default 8081),"
            + " 0 = none")
    Integer adminPort;

    @Override
    public Integer call() {
        BrokerConfig.Builder b;
        try {
            b = config == null ? BrokerConfig.builder() : ConfigLoader.load(config);
        } catch (ConfigLoader.ConfigException e) {
            System.err.println("starling: " + e.getMessage());
            return 2;
        }
        if (bind != null) {
            b.bindAddress(bind);
        }
        if (port != null) {
            b.port(port);
        }
        if (bind != null || port != null) {
            // with a listeners list in the file, --bind/--port override the first listener
            List<ListenerConfig> ls = new ArrayList<>(listenersOf(b));
            if (!ls.isEmpty()) {
                ListenerConfig first = ls.get(0);
                try {
                    ls.set(0, first.toBuilder().bind(bind != null ? bind : first.bind())
                            .port(port != null ? port : first.port()).build());
                } catch (IllegalArgumentException e) {
                    System.err.println("starling: " + e.getMessage());
                    return 2;
                }
                b.listeners(ls);
            }
        }
        if (dataDir != null) {
            b.dataDir(dataDir);
        }
        BrokerConfig cfg;
        try {
            // the broker run from the command line has its admin listener unless the file or --admin-port says not
            AdminConfig admin = b.adminSet() ? b.admin() : AdminConfig.DEFAULTS;
            if (adminPort != null) {
                admin = admin.withPortOrOff(adminPort);
            }
            b.admin(admin);
            cfg = b.build();
            Files.createDirectories(cfg.dataDir());
        } catch (IllegalArgumentException | java.io.IOException e) {
            System.err.println("starling: " + e.getMessage());
            return 2;
        }
        StarlingServer server;
        try {
            server = StarlingServer.start(cfg);
        } catch (io.starling.store.rocksdb.StoreException e) {
            System.err.println("starling: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            System.err.println("starling: cannot start: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return 1;
        }
        ran = true;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "starling-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** Whether a broker was started in this process: its return means the process is shutting down. */
    static boolean ran() {
        return ran;
    }

    private static List<ListenerConfig> listenersOf(BrokerConfig.Builder b) {
        try {
            return b.build().listeners();
        } catch (IllegalArgumentException e) {
            return List.of(); // reported by the build below
        }
    }
}
