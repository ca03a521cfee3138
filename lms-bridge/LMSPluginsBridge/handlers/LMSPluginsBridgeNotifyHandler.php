<?php

/*
 * lms-notify's plugin hooks (specs/lms_core.md 6): get_supported_actions {supported_actions},
 * notification_blocks / notification_unblocks {customers, nodes, actions, quiet, debug}.
 * Our actions are those `lmsplugins notify actions --json --plugins-only` lists; LMS's own
 * actions are never overridden, and LMS has already run them when the hooks fire.
 */

class LMSPluginsBridgeNotifyHandler
{
    public static function ourActions()
    {
        $list = LMSPluginsBridgeRunner::json(array('notify', 'actions', '--json', '--plugins-only'));
        $actions = array();
        foreach ((array) $list as $row) {
            if (isset($row['name'], $row['params']) && is_string($row['name'])) {
                $actions[$row['name']] = intval($row['params']);
            }
        }
        return $actions;
    }

    public function getSupportedActions(array $hook_data)
    {
        foreach (self::ourActions() as $name => $params) {
            if (!isset($hook_data['supported_actions'][$name])) {
                $hook_data['supported_actions'][$name] = array('params' => $params);
            }
        }
        return $hook_data;
    }

    public function notificationBlocks(array $hook_data)
    {
        $this->apply('--block', $hook_data);
        return $hook_data;
    }

    public function notificationUnblocks(array $hook_data)
    {
        $this->apply('--unblock', $hook_data);
        return $hook_data;
    }

    private function apply($channel, array $hook_data)
    {
        if (empty($hook_data['actions']) || empty($hook_data['customers'])) {
            return;
        }
        $ours = self::ourActions();
        $wanted = array();
        foreach ($hook_data['actions'] as $name => $params) {
            if (!isset($ours[$name])) {
                continue;
            }
            $params = array_values((array) $params);
            $wanted[] = empty($params) ? $name : $name . '(' . implode(',', $params) . ')';
        }
        if (empty($wanted)) {
            return;
        }
        $temp_files = array();
        $args = array(
            'notify', 'apply', $channel,
            '--actions', implode(',', $wanted),
            '--customers', LMSPluginsBridgeRunner::idsArgument($hook_data['customers'], $temp_files),
        );
        if (isset($hook_data['nodes']) && is_array($hook_data['nodes'])) {
            $args[] = '--nodes';
            $args[] = LMSPluginsBridgeRunner::idsArgument($hook_data['nodes'], $temp_files);
        }
        if (!empty($hook_data['debug'])) {
            $args[] = '--debug';
        }
        $quiet = !empty($hook_data['quiet']);
        if ($quiet) {
            $args[] = '--quiet';
        }
        LMSPluginsBridgeRunner::run($args, !$quiet);
        foreach ($temp_files as $file) {
            @unlink($file);
        }
    }
}
