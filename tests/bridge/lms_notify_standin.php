<?php

/*
 * lms-notify's plugin side, driven from a test: php lms_notify_standin.php PLUGIN_DIR CHANNEL ACTIONS
 * CUSTOMERS NODES [debug] [quiet]. Fires get_supported_actions with LMS's core set, parses ACTIONS as
 * LMS does (the core actions themselves are not run here), then fires notification_blocks or
 * notification_unblocks with {customers, nodes, actions, quiet, debug}. Also fires menu_initialized
 * and customerinfo_before_display and prints what came back, as JSON on the last line.
 */

require_once __DIR__ . DIRECTORY_SEPARATOR . 'lms_standin.php';

list(, $plugin_dir, $channel, $action_text, $customer_text, $node_text) = $argv;
$debug = in_array('debug', $argv, true);
$quiet = in_array('quiet', $argv, true);

$plugin_manager = new LMSPluginManager(array($plugin_dir));
$smarty = new Smarty();
$smarty = $plugin_manager->executeHook('smarty_initialized', $smarty);

$supported_actions = array(
    'customer-status' => array('params' => ACTION_PARAM_OPTIONAL),
    'node-access' => array('params' => ACTION_PARAM_NONE),
    'node-warning' => array('params' => ACTION_PARAM_NONE),
    'assignment-invoice' => array('params' => ACTION_PARAM_OPTIONAL),
    'all-assignment-suspension' => array('params' => ACTION_PARAM_NONE),
    'customer-group' => array('params' => ACTION_PARAM_REQUIRED),
    'node-group' => array('params' => ACTION_PARAM_REQUIRED),
);
$hook_data = $plugin_manager->executeHook('get_supported_actions', array('supported_actions' => $supported_actions));
$supported_actions = $hook_data['supported_actions'];
$actions = standin_parse_actions($action_text, $supported_actions);

$ids = function ($text) {
    return $text === '' ? array() : array_map('intval', explode(',', $text));
};
$plugin_manager->executeHook($channel == 'block' ? 'notification_blocks' : 'notification_unblocks', array(
    'customers' => $ids($customer_text),
    'nodes' => $ids($node_text),
    'actions' => $actions,
    'quiet' => $quiet,
    'debug' => $debug,
));

$menu = $plugin_manager->executeHook('menu_initialized', array('customers' => array('name' => 'Customers')));
$info = $plugin_manager->executeHook('customerinfo_before_display', array(
    'customerinfo' => array('id' => 7),
    'smarty' => $smarty,
));
echo PHP_EOL . json_encode(array(
    'supported' => array_map(function ($a) {
        return $a['params'];
    }, $supported_actions),
    'menu' => $menu,
    'panels_url' => $info['smarty']->getTemplateVars('lmsplugins_panels_url'),
    'template_dirs' => $smarty->getTemplateDir(),
)) . PHP_EOL;
