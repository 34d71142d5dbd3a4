package dev.curvlab.spark.operator;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * BLAS threads per task, so concurrent tasks do not oversubscribe an executor's cores: on a
 * cluster, {@code spark.task.cpus} (the cores Spark reserves for one task); in local mode
 * {@code local[K]}, the machine's processors over K. {@code spark.curvlab.blasThreads} overrides both.
 */
public final class TaskThreads {
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\s*\\d+)?\\])?");

    private TaskThreads() {
    }

    public static int perTask(JavaSparkContext sc) {
        var conf = sc.getConf();
        if (conf.contains("spark.curvlab.blasThreads")) {
            return Math.max(1, conf.getInt("spark.curvlab.blasThreads", 1));
        }
        int processors = Runtime.getRuntime().availableProcessors();
        Matcher m = LOCAL.matcher(sc.master().trim());
        if (m.matches()) {
            String k = m.group(1);
            int slots = k == null ? 1 : k.equals("*") ? processors : Integer.parseInt(k);
            return Math.max(1, processors / Math.max(1, slots));
        }
        return Math.max(1, conf.getInt("spark.task.cpus", 1));
    }
}
