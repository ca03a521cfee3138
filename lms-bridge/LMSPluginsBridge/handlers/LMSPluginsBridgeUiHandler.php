<?php

/*
 * LMS's web UI: a "lmsplugins" menu with the pages the user may open, and a box on the customer
 * card framing lmsplugins' panels of that customer (templates/customer/customerinfo.html appends
 * it to LMS's customernodesbox block). Menu entries and their rights come from the JSON the host
 * prints (`lmsplugins bridge menu --json`); when that is unavailable LMS's menu is left as it was.
 * The frame carries no credentials: lmsplugins recognises the user by LMS's own SID cookie (same
 * site) and lets only the configured LMS origin frame it.
 */

class LMSPluginsBridgeUiHandler
{
    private static function allowed($permission)
    {
        if ($permission === null || $permission === '' || $permission === array()) {
            return true;
        }
        foreach ((array) $permission as $name) {
            if (ConfigHelper::checkPrivilege($name)) {
                return true;
            }
        }
        return false;
    }

    private static function baseUrl()
    {
        $url = LMSPluginsBridgeRunner::setting('url');
        return $url === null ? null : rtrim($url, '/');
    }

    public function menuInitialized(array $menu)
    {
        $base = self::baseUrl();
        if ($base === null) {
            return $menu;
        }
        $entries = LMSPluginsBridgeRunner::json(
            array('bridge', 'menu', '--json'),
            intval(LMSPluginsBridgeRunner::setting('cache_seconds', 300))
        );
        if (!is_array($entries)) {
            return $menu;
        }
        $submenu = array();
        foreach ($entries as $entry) {
            if (!isset($entry['title'], $entry['path']) || !self::allowed(isset($entry['permission']) ? $entry['permission'] : null)) {
                continue;
            }
            $submenu[] = array(
                'name' => $entry['title'],
                'link' => $base . $entry['path'],
                'tip' => $entry['title'],
                'prio' => isset($entry['order']) ? intval($entry['order']) : 100,
            );
        }
        if (!empty($submenu)) {
            $menu['lmsplugins'] = array(
                'name' => 'lmsplugins',
                'img' => 'settings.gif',
                'link' => $base . '/',
                'tip' => 'lmsplugins',
                'accesskey' => '',
                'prio' => 95,
                'submenu' => $submenu,
            );
        }
        return $menu;
    }

    public function smartyInitialized($smarty)
    {
        LMSPluginsBridge::insertDefaultTemplateDir($smarty);
        return $smarty;
    }

    public function customerInfoBeforeDisplay(array $hook_data)
    {
        $base = self::baseUrl();
        $id = isset($hook_data['customerinfo']['id']) ? intval($hook_data['customerinfo']['id']) : 0;
        if ($base !== null && $id > 0 && isset($hook_data['smarty'])) {
            $hook_data['smarty']->assign('lmsplugins_panels_url', $base . '/embed/customers/' . $id . '/panels');
        }
        return $hook_data;
    }
}
