package dev.curvlab.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The checks every {@link LaplaceComparison} output must pass (shared by the Iris and digits example tests). */
final class LaplaceRows {
    private LaplaceRows() {
    }

    /**
     * {@code <prefix>_reliability.png} exists, {@code <prefix>.json} has the MAP row and three
     * posteriors; the MAP's accuracy is above 0.8 and every posterior lowers the confidence far from
     * the data, has a positive evidence-chosen prior precision, a finite log Z and NLL, and an
     * accuracy above {@code posteriorAccuracy}.
     */
    static void check(Path dir, String prefix, double posteriorAccuracy) throws IOException {
        assertTrue(Files.size(dir.resolve(prefix + "_reliability.png")) > 0);
        JsonNode rows = new ObjectMapper().readTree(dir.resolve(prefix + ".json").toFile()).get("rows");
        assertEquals(4, rows.size());
        JsonNode map = rows.get(0);
        assertTrue(map.get("accuracy").asDouble() > 0.8, map.toString());
        for (int i = 1; i < 4; i++) {
            JsonNode r = rows.get(i);
            assertTrue(r.get("farConfidence").asDouble() < map.get("farConfidence").asDouble(), r + " vs " + map);
            assertTrue(r.get("priorPrecision").asDouble() > 0 && Double.isFinite(r.get("logEvidence").asDouble()), r.toString());
            assertTrue(Double.isFinite(r.get("nll").asDouble()) && r.get("accuracy").asDouble() > posteriorAccuracy, r.toString());
        }
    }
}
