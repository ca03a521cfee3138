<?php

/*
 * LMSPluginsBridge: lmsplugins (the Python host beside LMS) inside a live LMS.
 *
 * - lms-notify: every enabled lmsplugins notify action is registered in get_supported_actions and
 *   run on notification_blocks / notification_unblocks through ONE call of
 *   `lmsplugins notify apply`, so LMS's own cron line blocks plugin services too;
 * - menu: a "lmsplugins" entry with one item per plugin page the user has the right for;
 * - customer card: a box framing lmsplugins' panels of that customer (single sign-on through
 *   LMS's SID cookie; lmsplugins allows framing only by the LMS origin it is configured with).
 *
 * Fails closed and quietly: when lmsplugins is missing, slow or failing, LMS keeps working, our
 * actions are simply not registered (or not run) and the reason goes to the PHP error log.
 *
 * Settings (lms.ini [lmsplugins] or uiconfig section lmsplugins): command (default "lmsplugins"),
 * config_file (passed as -C), url (the lmsplugins web address), timeout (seconds, default 600),
 * cache_seconds (the menu's private file cache, default 300).
 */

require_once __DIR__ . DIRECTORY_SEPARATOR . 'lib' . DIRECTORY_SEPARATOR . 'LMSPluginsBridgeRunner.php';
require_once __DIR__ . DIRECTORY_SEPARATOR . 'handlers' . DIRECTORY_SEPARATOR . 'LMSPluginsBridgeNotifyHandler.php';
require_once __DIR__ . DIRECTORY_SEPARATOR . 'handlers' . DIRECTORY_SEPARATOR . 'LMSPluginsBridgeUiHandler.php';

class LMSPluginsBridge extends LMSPlugin
{
    const PLUGIN_NAME = 'lmsplugins bridge';
    const PLUGIN_DESCRIPTION = 'lmsplugins notify actions, menu and customer panels inside LMS';
    const PLUGIN_AUTHOR = 'lmsplugins';
    const PLUGIN_SOFTWARE_VERSION = '1.0';

    public function registerHandlers()
    {
        $this->handlers = array(
            'get_supported_actions' => array(
                'class' => 'LMSPluginsBridgeNotifyHandler',
                'method' => 'getSupportedActions',
            ),
            'notification_blocks' => array(
                'class' => 'LMSPluginsBridgeNotifyHandler',
                'method' => 'notificationBlocks',
            ),
            'notification_unblocks' => array(
                'class' => 'LMSPluginsBridgeNotifyHandler',
                'method' => 'notificationUnblocks',
            ),
            'smarty_initialized' => array(
                'class' => 'LMSPluginsBridgeUiHandler',
                'method' => 'smartyInitialized',
            ),
            'menu_initialized' => array(
                'class' => 'LMSPluginsBridgeUiHandler',
                'method' => 'menuInitialized',
            ),
            'customerinfo_before_display' => array(
                'class' => 'LMSPluginsBridgeUiHandler',
                'method' => 'customerInfoBeforeDisplay',
            ),
        );
    }
}
