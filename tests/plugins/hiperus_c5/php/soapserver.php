<?php
// A non-WSDL PHP SoapServer answering like the Hiperus platform (same return Struct and row shapes),
// so our Python client can be checked against PHP's own encoder. Run with `php -S 127.0.0.1:PORT`.
// It echoes what PHP decoded from our requests (values and PHP types) so the test can check our encoder.
class HiperusLike {
    public function request($realm, $action, $args, $sessid) {
        $r = new stdClass();
        if ($realm !== 'PLATFORM_MNGM') {
            $r->success = false; $r->error_message = 'bad realm'; return $r;
        }
        $sessfile = sys_get_temp_dir() . '/hiperus_interop_' . getmypid() . '_' . $_SERVER['SERVER_PORT'];
        if ($action === 'Login') {
            if ($args->username === 'reseller' && $args->password === 's3cr3t' && $args->domain === 'demo') {
                $r->success = true; $r->sessid = 'php-' . md5(uniqid('', true));
                file_put_contents($sessfile, $r->sessid);
            } else {
                $r->success = false; $r->error_message = 'Login incorrect';
            }
            return $r;
        }
        $valid = is_file($sessfile) ? file_get_contents($sessfile) : '';
        if ($action === 'CheckLogin') {
            $r->success = true; $r->sessid = $sessid;
            $r->result_set = array(array('logged' => ($sessid === $valid), 'voip_services' => 't', 'wlr_services' => 't'));
            return $r;
        }
        if ($sessid !== $valid) {
            $r->success = false; $r->error_message = 'Session expired'; return $r;
        }
        switch ($action) {
        case 'Expire':
            unlink($sessfile); $r->success = true; $r->result_set = array(); return $r;
        case 'GetCustomerList':
            $r->success = true;
            $r->result_set = array(
                array('id' => '11', 'name' => 'Kowalski & Syn', 'ext_billing_id' => '5', 'issue_invoice' => 't', 'b_nip' => null),
                array('id' => '12', 'name' => 'Zażółć Gęślą', 'ext_billing_id' => null, 'issue_invoice' => 'f', 'b_nip' => '1234563218'),
            );
            return $r;
        case 'GetCustomerData':
            $r->success = true;
            $r->result_set = array(array('id' => $args->id_customer, 'id_type' => gettype($args->id_customer)));
            return $r;
        case 'AddCustomer':
            $o = new stdClass(); $o->id = 4321;
            $r->success = true; $r->result_set = array($o); return $r;
        case 'AddTerminal':
            $o = new stdClass(); $o->id_terminal = 777;
            $r->success = true; $r->result_set = array($o); return $r;
        case 'AddExtension':
            $r->success = true; $r->result_set = array(array('id_extension' => '888')); return $r;
        case 'SaveCustomerData':
            $types = array();
            foreach (get_object_vars($args) as $k => $v) { $types[$k] = gettype($v) . ':' . var_export($v, true); }
            $r->success = true; $r->result_set = array($types); return $r;
        case 'GetPlatformNumberingRange':
            $r->success = true; $r->result_set = array(); return $r;
        case 'GetBilling':
            $rows = array();
            $start = (int)$args->offset;
            $end = $args->limit === null ? 5 : min(5, $start + $args->limit);
            for ($i = $start; $i < $end; $i++) {
                $rows[] = array('id' => (string)(1000 + $i), 'start_time' => $args->from . ' 10:00:0' . $i,
                    'calltype' => $args->calltype, 'success' => $args->success_calls, 'compress' => $args->compress,
                    'cost' => 0.25 * $i, 'id_customer' => $args->id_customer);
            }
            $r->success = true; $r->result_set = $rows; return $r;
        case 'Boom':
            throw new SoapFault('Server', 'Database is down');
        default:
            $r->success = false; $r->error_message = "Unknown action $action"; return $r;
        }
    }
}
$server = new SoapServer(null, array('uri' => 'https://backend.hiperus.pl:8080/hiperusapi.php'));
$server->setClass('HiperusLike');
$server->handle();
