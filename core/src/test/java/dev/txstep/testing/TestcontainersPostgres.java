package dev.txstep.testing;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

/** The last resort for a PostgreSQL test database: a container, when a Docker engine runs. */
final class TestcontainersPostgres {

    private static PostgreSQLContainer<?> container;

    private TestcontainersPostgres() {
    }

    /** Starts a PostgreSQL 15 container and returns its R2DBC URL, or null without Docker. */
    static synchronized String startIfDockerAvailable() {
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable e) {
            docker = false;
        }
        if (!docker) {
            return null;
        }
        if (container == null) {
            container = new PostgreSQLContainer<>("postgres:15");
            container.start();
        }
        return "r2dbc:postgresql://" + container.getUsername() + ":" + container.getPassword() + "@"
                + container.getHost() + ":" + container.getMappedPort(5432) + "/" + container.getDatabaseName();
    }
}
