<?php

/*
 * A stand-in for the parts of LMS the bridge meets (chilek/lms d85aeab5): LMSPlugin's handler
 * dispatch (a new handler instance per hook call, its return value replacing the hook data),
 * LMSPluginManager::executeHook chaining every plugin, ConfigHelper, and lms-notify's action
 * grammar and plugin hooks (specs/lms_core.md 2.2, 2.3, 6). Settings and the user's rights come
 * from the JSON file named by $LMS_STANDIN_CONFIG: {"settings": {"section.var": value}, "rights": [..]}.
 */

define('ACTION_PARAM_NONE', 0);
define('ACTION_PARAM_REQUIRED', 1);
define('ACTION_PARAM_OPTIONAL', -1);

class ConfigHelper
{
    private static $config = null;

    private static function load()
    {
        if (self::$config === null) {
            $file = getenv('LMS_STANDIN_CONFIG');
            self::$config = $file ? json_decode(file_get_contents($file), true) : array();
        }
        return self::$config;
    }

    public static function getConfig($name, $default = null, $allow_empty = false)
    {
        $config = self::load();
        $settings = isset($config['settings']) ? $config['settings'] : array();
        return array_key_exists($name, $settings) ? $settings[$name] : $default;
    }

    public static function checkConfig($name, $default = false)
    {
        $value = self::getConfig($name, $default ? 'true' : 'false');
        return in_array(strtolower((string) $value), array('1', 'y', 'yes', 'true', 'on'), true);
    }

    public static function checkPrivilege($name)
    {
        $config = self::load();
        $rights = isset($config['rights']) ? $config['rights'] : array();
        if (strpos($name, 'hide_') !== 0 && in_array('full_access', $rights, true)) {
            return true;
        }
        return in_array($name, $rights, true);
    }
}

class Smarty
{
    private $vars = array();
    private $dirs = array('/lms/templates/default');

    public function assign($name, $value)
    {
        $this->vars[$name] = $value;
    }

    public function getTemplateVars($name)
    {
        return isset($this->vars[$name]) ? $this->vars[$name] : null;
    }

    public function getTemplateDir()
    {
        return $this->dirs;
    }

    public function setTemplateDir($dirs)
    {
        $this->dirs = $dirs;
    }
}

abstract class LMSPlugin
{
    protected $handlers;

    public function __construct()
    {
        $this->registerHandlers();
    }

    abstract public function registerHandlers();

    public static function insertDefaultTemplateDir(Smarty $smarty)
    {
        $template_dirs = $smarty->getTemplateDir();
        $reflector = new ReflectionClass(static::class);
        array_unshift($template_dirs, dirname($reflector->getFileName()) . DIRECTORY_SEPARATOR . 'templates');
        $smarty->setTemplateDir($template_dirs);
    }

    public function dispatch($hook_name, $hook_data)
    {
        if (!is_array($this->handlers)) {
            throw new Exception('Handlers must be set!');
        }
        if (!array_key_exists($hook_name, $this->handlers)) {
            return $hook_data;
        }
        $class = $this->handlers[$hook_name]['class'];
        $method = $this->handlers[$hook_name]['method'];
        $handler = new $class();
        return $handler->$method($hook_data);
    }
}

class LMSPluginManager
{
    private $plugins = array();

    public function __construct(array $plugin_dirs)
    {
        foreach ($plugin_dirs as $dir) {
            $class = basename($dir);
            require_once $dir . DIRECTORY_SEPARATOR . $class . '.php';
            $this->plugins[] = new $class();
        }
    }

    public function executeHook($hook_name, $hook_data = null)
    {
        foreach ($this->plugins as $plugin) {
            $hook_data = $plugin->dispatch($hook_name, $hook_data);
        }
        return $hook_data;
    }
}

/** lms-notify's parser of -a (the same grammar and checks; dies like LMS on a bad list). */
function standin_parse_actions($text, array $supported_actions)
{
    $actions = array();
    if (!preg_match('/^[^,\(]+(\([^\)]+\))?(,[^,\(]+(\([^\)]+\))?)*$/', $text)
        || !preg_match_all('/([^,\(]+)(?:\(([^\)]+)\))?/', $text, $matches)) {
        die('Invalid format of actions parameter!' . PHP_EOL);
    }
    foreach ($matches[1] as $idx => $action) {
        if (!isset($supported_actions[$action])
            || ($supported_actions[$action]['params'] == ACTION_PARAM_REQUIRED && empty($matches[2][$idx]))
            || ($supported_actions[$action]['params'] == ACTION_PARAM_NONE && !empty($matches[2][$idx]))) {
            die('Invalid format of actions parameter!' . PHP_EOL);
        }
        $actions[$action] = empty($matches[2][$idx]) ? array() : preg_split('/,/', $matches[2][$idx], -1, PREG_SPLIT_NO_EMPTY);
    }
    return $actions;
}
