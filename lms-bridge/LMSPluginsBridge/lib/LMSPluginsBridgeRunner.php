<?php

/*
 * Runs the lmsplugins command without a shell (argv array) and never throws: a missing binary, a
 * failed start, a timeout or a non-zero exit code is logged and reported as null / the exit code.
 */

class LMSPluginsBridgeRunner
{
    const ARGV_IDS_LIMIT = 1000;

    private static $cache = array();

    public static function setting($var, $default = null)
    {
        $value = ConfigHelper::getConfig('lmsplugins.' . $var, $default);
        return ($value === null || $value === '') ? $default : $value;
    }

    public static function log($message)
    {
        error_log('lmsplugins bridge: ' . $message);
    }

    /** The command's path, or null (logged) when it cannot be found or run. */
    public static function executable()
    {
        $command = self::setting('command', 'lmsplugins');
        if (strpos($command, DIRECTORY_SEPARATOR) !== false) {
            if (is_file($command) && is_executable($command)) {
                return $command;
            }
        } else {
            foreach (explode(PATH_SEPARATOR, (string) getenv('PATH')) as $dir) {
                $candidate = rtrim($dir, DIRECTORY_SEPARATOR) . DIRECTORY_SEPARATOR . $command;
                if ($dir !== '' && is_file($candidate) && is_executable($candidate)) {
                    return $candidate;
                }
            }
        }
        self::log("command '$command' not found or not executable; set lmsplugins.command to its full path");
        return null;
    }

    /**
     * Runs `lmsplugins [-C file] ARGS`; returns array(exit code, stdout, stderr) or null when it
     * could not start. Output is returned, not printed; $echo streams stdout lines as they come.
     */
    public static function run(array $args, $echo = false)
    {
        $exe = self::executable();
        if ($exe === null) {
            return null;
        }
        $argv = array($exe);
        $config_file = self::setting('config_file');
        if ($config_file !== null) {
            $argv[] = '-C';
            $argv[] = $config_file;
        }
        $argv = array_merge($argv, $args);
        $spec = array(0 => array('file', '/dev/null', 'r'), 1 => array('pipe', 'w'), 2 => array('pipe', 'w'));
        $proc = @proc_open($argv, $spec, $pipes);
        if (!is_resource($proc)) {
            self::log('could not start ' . $exe);
            return null;
        }
        stream_set_blocking($pipes[1], false);
        stream_set_blocking($pipes[2], false);
        $out = '';
        $err = '';
        $deadline = microtime(true) + intval(self::setting('timeout', 600));
        while (true) {
            $read = array($pipes[1], $pipes[2]);
            $write = null;
            $except = null;
            if (@stream_select($read, $write, $except, 1) === false) {
                break;
            }
            foreach ($read as $pipe) {
                $chunk = fread($pipe, 65536);
                if ($pipe === $pipes[1]) {
                    $out .= $chunk;
                    if ($echo && $chunk !== '') {
                        echo $chunk;
                    }
                } else {
                    $err .= $chunk;
                }
            }
            if (feof($pipes[1]) && feof($pipes[2])) {
                break;
            }
            if (microtime(true) > $deadline) {
                proc_terminate($proc);
                self::log('lmsplugins ' . implode(' ', $args) . ' timed out and was stopped');
                break;
            }
        }
        fclose($pipes[1]);
        fclose($pipes[2]);
        $code = proc_close($proc);
        if ($code !== 0) {
            $first = trim(strtok($err !== '' ? $err : $out, "\n"));
            self::log('lmsplugins ' . $args[0] . ' ' . (isset($args[1]) ? $args[1] : '') . " exited with $code: $first");
        }
        return array($code, $out, $err);
    }

    /**
     * `lmsplugins ARGS` printing JSON, decoded; null when unusable. Kept for the PHP process and,
     * with $ttl seconds, in a private file cache, so a web page does not start Python each time.
     */
    public static function json(array $args, $ttl = 0)
    {
        $key = implode("\0", $args) . "\0" . self::setting('config_file', '');
        if (array_key_exists($key, self::$cache)) {
            return self::$cache[$key];
        }
        $file = $ttl > 0 ? self::cacheFile($key) : null;
        if ($file !== null && is_file($file) && filemtime($file) > time() - $ttl) {
            $data = json_decode((string) file_get_contents($file), true);
            if (is_array($data)) {
                return self::$cache[$key] = $data;
            }
        }
        $result = self::run($args);
        $data = null;
        if ($result !== null && $result[0] === 0) {
            $data = json_decode($result[1], true);
            if (!is_array($data)) {
                self::log('lmsplugins ' . implode(' ', $args) . ' did not print JSON');
                $data = null;
            }
        }
        if ($data !== null && $file !== null) {
            $temp = $file . '.' . getmypid();
            if (@file_put_contents($temp, $result[1]) !== false) {
                @rename($temp, $file);
            }
        }
        return self::$cache[$key] = $data;
    }

    /** The effective uid of this PHP process (getmyuid() is the script file's owner). */
    private static function processUid()
    {
        if (function_exists('posix_geteuid')) {
            return posix_geteuid();
        }
        $probe = tempnam(sys_get_temp_dir(), 'lmsplugins-uid-');
        $uid = fileowner($probe);
        @unlink($probe);
        return $uid;
    }

    /** A file in a directory only this PHP user owns (others could plant a menu in a shared /tmp). */
    private static function cacheFile($key)
    {
        $uid = self::processUid();
        $dir = sys_get_temp_dir() . DIRECTORY_SEPARATOR . 'lmsplugins-bridge-' . $uid;
        if (!is_dir($dir) && !@mkdir($dir, 0700)) {
            return null;
        }
        clearstatcache(true, $dir);
        if (fileowner($dir) !== $uid || (fileperms($dir) & 0077) !== 0) {
            self::log("cache directory $dir is not private; not caching");
            return null;
        }
        return $dir . DIRECTORY_SEPARATOR . md5($key) . '.json';
    }

    /** Ids as an argument: inline when short, else a temporary file passed as @FILE. */
    public static function idsArgument(array $ids, array &$temp_files)
    {
        $ids = array_map('intval', array_values($ids));
        if (count($ids) <= self::ARGV_IDS_LIMIT) {
            return implode(',', $ids);
        }
        $file = tempnam(sys_get_temp_dir(), 'lmsplugins-ids-');
        file_put_contents($file, implode(',', $ids));
        $temp_files[] = $file;
        return '@' . $file;
    }
}
